module github.com/GoogleCloudPlatform/golang-samples/appengine/go11x/static

go 1.11
