//go:build !linux

package main

// cpuModel returns "unknown" outside Linux.
func cpuModel() string { return "unknown" }

// loadAverage returns "unknown" outside Linux.
func loadAverage() string { return "unknown" }
