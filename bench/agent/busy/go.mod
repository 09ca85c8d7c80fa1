module golens.bench/busy

go 1.21
