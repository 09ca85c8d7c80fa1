module example.com/golens/pgoprog

go 1.21
