"""Hooks that put alignprobe inside other tools' loops (training libraries)."""
