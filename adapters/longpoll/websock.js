// websock.js: a WebSocket-like client that uses a WebSocket and falls back
// to long-polling (package adapters/longpoll) when the WebSocket cannot
// open. Plain JavaScript, no build step:
//
//   <script src="/websock.js"></script>
//   const sock = new WebSock("wss://example.com/chat", {longPoll: "/chat/poll"});
//   sock.onopen = () => sock.send("hello");
//   sock.onmessage = (e) => console.log(e.data, "over", sock.transport);
//   sock.onclose = (e) => console.log("closed", e.code, e.reason);
//
// It has the API of a WebSocket: readyState (CONNECTING, OPEN, CLOSING,
// CLOSED), protocol, binaryType ("blob" or "arraybuffer"), send(data),
// close(code, reason), and onopen, onmessage, onerror and onclose; plus
// transport, "websocket" or "longpoll" once open. A WebSocket that cannot
// open (its constructor throws, or it closes before opening) makes it open
// a long-poll session at options.longPoll instead, a URL of the same
// origin as the page. Without options.longPoll it is a WebSocket.
(function (global) {
  "use strict";

  const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
  const TEXT = 1, BINARY = 2, CLOSE = 8;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  function uvarint(n) {
    const out = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return out;
  }

  // readUvarint reads a uvarint of bytes at r.pos.
  function readUvarint(bytes, r) {
    let n = 0, mul = 1;
    for (;;) {
      if (r.pos >= bytes.length) throw new Error("websock: truncated batch");
      const b = bytes[r.pos++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  }

  function closePayload(code, reason) {
    if (code === undefined) return new Uint8Array(0);
    const r = encoder.encode(reason || "");
    const p = new Uint8Array(2 + r.length);
    p[0] = code >> 8; p[1] = code & 0xff;
    p.set(r, 2);
    return p;
  }

  function event(type, props) {
    const e = new Event(type);
    Object.assign(e, props || {});
    return e;
  }

  class WebSock {
    constructor(url, options) {
      this.url = url;
      this.options = options || {};
      this.readyState = CONNECTING;
      this.protocol = "";
      this.transport = "";
      this.binaryType = "blob";
      this.onopen = this.onmessage = this.onerror = this.onclose = null;
      this._protocols = [].concat(this.options.protocols || []);
      this._ws = null;
      this._lp = null;
      this._openWebSocket();
    }

    _emit(type, props) {
      const e = event(type, props);
      const f = this["on" + type];
      if (typeof f === "function") f.call(this, e);
    }

    _fallBack(why) {
      if (!this.options.longPoll || this.readyState !== CONNECTING) {
        this._closed(1006, "", false);
        return;
      }
      this._lp = new LongPoll(this, this.options.longPoll, why);
    }

    _openWebSocket() {
      let ws;
      try {
        ws = new global.WebSocket(this.url, this._protocols);
      } catch (err) {
        this._fallBack("WebSocket refused: " + err.message);
        return;
      }
      this._ws = ws;
      ws.binaryType = "arraybuffer";
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.protocol = ws.protocol;
        this._opened("websocket");
      };
      ws.onmessage = (e) => this._message(e.data);
      ws.onerror = () => { if (opened) this._emit("error"); };
      ws.onclose = (e) => {
        if (!opened) {
          this._ws = null;
          this._fallBack("WebSocket closed before opening (" + e.code + ")");
          return;
        }
        this._closed(e.code, e.reason, e.wasClean);
      };
    }

    _opened(transport) {
      if (this.readyState !== CONNECTING) return;
      this.transport = transport;
      this.readyState = OPEN;
      this._emit("open");
    }

    _message(data) {
      if (this.readyState !== OPEN && this.readyState !== CLOSING) return;
      if (data instanceof ArrayBuffer && this.binaryType === "blob") data = new Blob([data]);
      this._emit("message", {data: data});
    }

    _closed(code, reason, wasClean) {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      if (!wasClean) this._emit("error");
      this._emit("close", {code: code, reason: reason, wasClean: wasClean});
    }

    send(data) {
      if (this.readyState === CONNECTING) throw new DOMException("websock: still connecting", "InvalidStateError");
      if (this.readyState !== OPEN) return;
      if (this._ws) this._ws.send(data);
      else this._lp.send(data);
    }

    close(code, reason) {
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      this.readyState = CLOSING;
      if (this._ws) this._ws.close(code, reason);
      else if (this._lp) this._lp.close(code, reason);
      else this._closed(1006, "", false);
    }
  }
  Object.assign(WebSock, {CONNECTING, OPEN, CLOSING, CLOSED});
  Object.assign(WebSock.prototype, {CONNECTING, OPEN, CLOSING, CLOSED});

  // LongPoll is the long-poll session of a WebSock: one poll at a time
  // takes the server's messages, one POST at a time sends the client's,
  // each retried when its answer is lost (sequence numbers make that
  // safe).
  class LongPoll {
    constructor(sock, url, why) {
      this.sock = sock;
      this.url = url;
      this.why = why;
      this.token = "";
      this.ack = 0;      // the last message received
      this.seq = 1;      // of the next message to send
      this.queue = [];   // [type, Uint8Array], not yet sent
      this.sending = false;
      this.ended = false;
      this.gotClose = false;
      this.sentClose = false;
      this.unload = () => this.abandon();
      this.open();
    }

    headers(extra) {
      return Object.assign({"Websock-Session": this.token}, extra || {});
    }

    async open() {
      let resp;
      try {
        const h = {};
        if (this.sock._protocols.length) h["Websock-Protocol"] = this.sock._protocols.join(", ");
        resp = await fetch(this.url, {method: "POST", headers: h, cache: "no-store"});
      } catch (err) {
        this.end(1006, "", false);
        return;
      }
      if (!resp.ok) {
        this.end(1006, "", false);
        return;
      }
      this.token = await resp.text();
      this.sock.protocol = resp.headers.get("Sec-WebSocket-Protocol") || "";
      global.addEventListener("pagehide", this.unload);
      this.sock._opened("longpoll");
      this.poll();
      this.flush(); // a close asked for while connecting
    }

    // request makes one request of the session, retrying a lost answer a
    // few times; it returns the response, or null once the session is over.
    async request(method, extra, body) {
      for (let attempt = 0; !this.ended; attempt++) {
        try {
          return await fetch(this.url, {method, headers: this.headers(extra), body, cache: "no-store"});
        } catch (err) {
          if (attempt >= 4) return null;
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
      return null;
    }

    async poll() {
      while (!this.ended) {
        const resp = await this.request("GET", {"Websock-Ack": String(this.ack)});
        if (this.ended) return;
        if (!resp || (resp.status !== 200 && resp.status !== 204)) {
          this.end(this.closeCode || 1006, this.closeReason || "", this.gotClose);
          return;
        }
        if (resp.status === 204) continue;
        const bytes = new Uint8Array(await resp.arrayBuffer());
        const r = {pos: 0};
        let seq = readUvarint(bytes, r);
        for (; r.pos < bytes.length; seq++) {
          const type = bytes[r.pos++];
          const n = readUvarint(bytes, r);
          const data = bytes.slice(r.pos, r.pos + n);
          r.pos += n;
          if (seq <= this.ack) continue; // had it already
          this.ack = seq;
          this.receive(type, data);
        }
      }
    }

    receive(type, data) {
      if (this.gotClose) return;
      switch (type) {
      case TEXT:
        this.sock._message(decoder.decode(data));
        break;
      case BINARY:
        this.sock._message(data.buffer);
        break;
      case CLOSE:
        this.gotClose = true;
        this.closeCode = data.length >= 2 ? (data[0] << 8) | data[1] : 1005;
        this.closeReason = data.length > 2 ? decoder.decode(data.slice(2)) : "";
        if (!this.sentClose) this.close(data.length >= 2 ? this.closeCode : undefined, "");
        // The session ends once the server has the answer: the next poll
        // is answered 410, and the WebSock closes with this code.
        break;
      }
    }

    send(data) {
      if (typeof data === "string") this.queue.push([TEXT, encoder.encode(data)]);
      else if (data instanceof ArrayBuffer) this.queue.push([BINARY, new Uint8Array(data)]);
      else if (ArrayBuffer.isView(data)) this.queue.push([BINARY, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()]);
      else if (data instanceof Blob) {
        // Keep the order: the Blob's bytes take its place in the queue.
        const slot = [BINARY, null];
        this.queue.push(slot);
        data.arrayBuffer().then((b) => { slot[1] = new Uint8Array(b); this.flush(); });
        return;
      } else throw new TypeError("websock: send takes a string, an ArrayBuffer, a typed array or a Blob");
      this.flush();
    }

    close(code, reason) {
      if (this.sentClose) return;
      this.sentClose = true;
      this.queue.push([CLOSE, closePayload(code, reason)]);
      this.flush();
    }

    async flush() {
      if (this.sending || this.ended || !this.token) return;
      this.sending = true;
      while (this.queue.length && this.queue[0][1] && !this.ended) {
        let n = 0;
        const parts = [uvarint(this.seq)];
        while (n < this.queue.length && this.queue[n][1] && n < 100) {
          const [type, data] = this.queue[n++];
          parts.push([type], uvarint(data.length), data);
        }
        const body = new Blob(parts.map((p) => p instanceof Uint8Array ? p : new Uint8Array(p)));
        const resp = await this.request("POST", {"Content-Type": "application/octet-stream"}, body);
        if (!resp || !resp.ok) {
          // 410: the session ended; the poll tells how.
          this.sending = false;
          if (!resp) this.end(1006, "", false);
          return;
        }
        this.queue.splice(0, n);
        this.seq += n;
      }
      this.sending = false;
    }

    // abandon tells the server this page is going away.
    abandon() {
      if (this.ended) return;
      fetch(this.url, {method: "DELETE", headers: this.headers(), keepalive: true}).catch(() => {});
      this.end(1001, "", false);
    }

    end(code, reason, clean) {
      if (this.ended) return;
      this.ended = true;
      global.removeEventListener("pagehide", this.unload);
      this.sock._closed(code, reason, clean);
    }
  }

  global.WebSock = WebSock;
})(typeof window !== "undefined" ? window : globalThis);
