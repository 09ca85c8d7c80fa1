module golens.test/dwarfoffsets

go 1.21
