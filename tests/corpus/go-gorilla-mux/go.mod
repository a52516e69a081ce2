module github.com/paketo-buildpacks/samples/go/mod

go 1.15

require github.com/gorilla/mux v1.8.1
