// +heroku goVersion go1.14
module github.com/GoogleCloudPlatform/buildpack-samples/sample-go

// minimum version 
go 1.19
