module golens.bench/burner

go 1.21
