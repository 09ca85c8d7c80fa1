module example.com/golens/testprog

go 1.21
