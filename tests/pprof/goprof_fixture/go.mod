module golens.test/goprof

go 1.21
