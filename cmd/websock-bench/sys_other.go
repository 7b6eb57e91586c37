//go:build !linux

package main

// cpuModel returns "unknown" outside Linux.
func cpuModel() string { return "unknown" }

// loadAverage returns "unknown" outside Linux.
func loadAverage() string { return "unknown" }

// cpuTime returns 0 outside Linux: the CPU figures are then not measured.
func cpuTime() int64 { return 0 }
