module golens.bench/loadgen

go 1.21
