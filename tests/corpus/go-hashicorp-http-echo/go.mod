module github.com/hashicorp/http-echo

go 1.21.0

toolchain go1.21.1
