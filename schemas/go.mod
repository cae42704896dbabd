module github.com/snotibridge/snotibridge/schemas

go 1.26
