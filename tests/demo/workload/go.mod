module golens.dev/demo

go 1.21
