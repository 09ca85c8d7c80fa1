module golens.bench/workload

go 1.21
