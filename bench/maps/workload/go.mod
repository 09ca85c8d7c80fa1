module golens.bench/maps

go 1.21
