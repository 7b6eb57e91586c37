package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// A run's results are saved (-save) so that the Performance table (docs/performance.md)
// and the chart are made from them, together, and can be made again
// (`websock-bench render`) without running anything: a test checks that
// the table and the chart in the repository are those of the saved run.

// meta is the machine, the date and the load of a run.
type meta struct {
	Date      string `json:"date"`
	CPUs      int    `json:"cpus"`
	CPU       string `json:"cpu"`
	Go        string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	LoadStart string `json:"load_start"`          // the 1-minute load average when the runs began
	LoadEnd   string `json:"load_end"`            // and when they ended
	Placement string `json:"placement,omitempty"` // how server and client were placed on the CPUs; "" in runs from before pinning
}

func newMeta() meta {
	return meta{Date: time.Now().UTC().Format("2006-01-02"), CPUs: runtime.NumCPU(), CPU: cpuModel(),
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, LoadStart: loadAverage()}
}

// record is a whole run as saved: its settings, machine and results.
type record struct {
	Meta   meta                                             `json:"meta"`
	Config savedConfig                                      `json:"config"`
	Runs   map[string]map[string]map[string][]*clientResult `json:"runs"` // adapter, mode, workload
}

// savedConfig is the config of a run, as saved.
type savedConfig struct {
	Adapters       []string `json:"adapters"`
	Workloads      []string `json:"workloads"`
	Conns          int      `json:"conns"`
	Size           int      `json:"size"`
	Duration       string   `json:"duration"`
	Warmup         string   `json:"warmup"`
	Reps           int      `json:"reps"`
	TputSize       int      `json:"tput_size"`
	Window         int      `json:"window"`
	FanoutConns    int      `json:"fanout_conns"`
	FanoutSize     int      `json:"fanout_size"`
	FanoutReps     int      `json:"fanout_reps"`
	BroadcastConns int      `json:"broadcast_conns"`
	BroadcastSize  int      `json:"broadcast_size"`
	BroadcastReps  int      `json:"broadcast_reps"`
	IdleConns      int      `json:"idle_conns"`
	Settle         string   `json:"settle"`
	Observer       bool     `json:"observer"`
}

func saveConfig(c *config) savedConfig {
	return savedConfig{Adapters: c.adapters, Workloads: c.workloads, Conns: c.conns, Size: c.size,
		Duration: c.duration.String(), Warmup: c.warmup.String(), Reps: c.reps, TputSize: c.tputSize, Window: c.window,
		FanoutConns: c.fanoutConns, FanoutSize: c.fanoutSize, FanoutReps: c.fanoutReps,
		BroadcastConns: c.broadcastConns, BroadcastSize: c.broadcastSize, BroadcastReps: c.broadcastReps,
		IdleConns: c.idleConns, Settle: c.settle.String(), Observer: c.observer}
}

func (s savedConfig) config() (*config, error) {
	c := &config{adapters: s.Adapters, workloads: s.Workloads, conns: s.Conns, size: s.Size, reps: s.Reps,
		tputSize: s.TputSize, window: s.Window, fanoutConns: s.FanoutConns, fanoutSize: s.FanoutSize, fanoutReps: s.FanoutReps,
		broadcastConns: s.BroadcastConns, broadcastSize: s.BroadcastSize, broadcastReps: s.BroadcastReps,
		idleConns: s.IdleConns, observer: s.Observer}
	var err error
	if c.duration, err = time.ParseDuration(s.Duration); err != nil {
		return nil, err
	}
	if c.warmup, err = time.ParseDuration(s.Warmup); err != nil {
		return nil, err
	}
	if c.settle, err = time.ParseDuration(s.Settle); err != nil {
		return nil, err
	}
	return c, nil
}

// saveRecord writes the run to path, as indented JSON.
func saveRecord(path string, cfg *config, res *results) error {
	b, err := json.MarshalIndent(record{Meta: res.meta, Config: saveConfig(cfg), Runs: res.runs}, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// loadRecord reads a run saveRecord wrote.
func loadRecord(path string) (*config, *results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := r.Config.config()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Runs == nil {
		r.Runs = map[string]map[string]map[string][]*clientResult{}
	}
	return cfg, &results{runs: r.Runs, meta: r.Meta}, nil
}

// The markers around the generated part of the Performance guide.s
// section.
const (
	readmeBegin = "<!-- bench:begin -->"
	readmeEnd   = "<!-- bench:end -->"
)

// readmeSection returns what goes between the Performance guide.s markers: the table
// of printTable.
func readmeSection(cfg *config, res *results) []byte {
	var b bytes.Buffer
	printTable(&b, cfg, res)
	return b.Bytes()
}

// replaceSection returns doc with what lies between its markers replaced
// by section.
func replaceSection(doc, section []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(readmeBegin))
	j := bytes.Index(doc, []byte(readmeEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("no %s ... %s markers", readmeBegin, readmeEnd)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(readmeBegin)])
	out.WriteString("\n")
	out.Write(section)
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// currentSection returns what lies between doc's markers.
func currentSection(doc []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(readmeBegin))
	j := bytes.Index(doc, []byte(readmeEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("no %s ... %s markers", readmeBegin, readmeEnd)
	}
	return bytes.TrimPrefix(doc[i+len(readmeBegin):j], []byte("\n")), nil
}

// outputs are the files a run or a render writes; "" skips one.
type outputs struct {
	save, readme, svg string
}

func (o *outputs) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.readme, "readme", "", "replace the table between the "+readmeBegin+" markers of this Markdown file")
	fs.StringVar(&o.svg, "svg", "", "write the chart, an SVG image, to this file")
}

// write writes the files of o from one run's results.
func (o *outputs) write(cfg *config, res *results) error {
	if o.save != "" {
		if err := saveRecord(o.save, cfg, res); err != nil {
			return err
		}
	}
	if o.readme != "" {
		doc, err := os.ReadFile(o.readme)
		if err != nil {
			return err
		}
		doc, err = replaceSection(doc, readmeSection(cfg, res))
		if err != nil {
			return fmt.Errorf("%s: %w", o.readme, err)
		}
		if err := os.WriteFile(o.readme, doc, 0o644); err != nil {
			return err
		}
	}
	if o.svg != "" {
		var b bytes.Buffer
		if err := writeChart(&b, cfg, res); err != nil {
			return err
		}
		if err := os.WriteFile(o.svg, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runRender is `websock-bench render`: it makes the Performance table and the
// chart again from a saved run.
func runRender(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the run saved with -save")
	var o outputs
	o.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("render: -from is required")
	}
	cfg, res, err := loadRecord(*from)
	if err != nil {
		return err
	}
	printTable(stdout, cfg, res)
	return o.write(cfg, res)
}
