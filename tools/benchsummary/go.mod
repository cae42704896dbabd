module github.com/snotibridge/snotibridge/tools/benchsummary

go 1.26.0
