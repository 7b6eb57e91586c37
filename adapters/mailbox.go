package adapters

// mailbox is the queue of messages Conn.Send delivers to HandleInfo: a
// ring that grows by doubling as messages queue up, never past what
// Options.MailboxSize lets Send put in, and gives back a large array once
// it empties, so that memory follows the messages queued now, not the
// number ever sent or the most ever queued.
type mailbox struct {
	buf  []any
	head int // index of the oldest message
	n    int // messages queued
}

// mailboxKeep is the largest ring kept once the mailbox empties; a larger
// one, grown for a burst, is left to the garbage collector.
const mailboxKeep = 16

func (m *mailbox) len() int { return m.n }

// push queues v. The caller bounds the count.
func (m *mailbox) push(v any) {
	if m.n == len(m.buf) {
		m.grow()
	}
	m.buf[(m.head+m.n)%len(m.buf)] = v
	m.n++
}

// pop removes and returns the oldest message; the mailbox must not be
// empty.
func (m *mailbox) pop() any {
	v := m.buf[m.head]
	m.buf[m.head] = nil
	m.head = (m.head + 1) % len(m.buf)
	m.n--
	if m.n == 0 {
		m.head = 0
		if len(m.buf) > mailboxKeep {
			m.buf = nil
		}
	}
	return v
}

// reset drops every queued message.
func (m *mailbox) reset() {
	clear(m.buf)
	m.head, m.n = 0, 0
	if len(m.buf) > mailboxKeep {
		m.buf = nil
	}
}

func (m *mailbox) grow() {
	nb := make([]any, max(2*len(m.buf), 4))
	for i := 0; i < m.n; i++ {
		nb[i] = m.buf[(m.head+i)%len(m.buf)]
	}
	m.buf, m.head = nb, 0
}
