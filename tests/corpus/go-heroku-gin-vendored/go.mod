module github.com/heroku/go-getting-started

// +heroku goVersion go1.17
go 1.17

require (
	github.com/gin-gonic/gin v0.0.0-20150626140855-4cc2de6207f4
	github.com/heroku/x v0.0.0-20171004170240-705849e307dd
	github.com/manucorporat/sse v0.0.0-20150604091100-c142f0f1baea // indirect
	github.com/mattn/go-colorable v0.0.0-20150625154642-40e4aedc8fab // indirect
	github.com/mattn/go-isatty v0.0.0-20150814002629-7fcbc72f853b // indirect
	github.com/stretchr/testify v1.3.0 // indirect
	golang.org/x/net v0.0.0-20150629084131-d9558e5c97f8 // indirect
	gopkg.in/bluesuncorp/validator.v5 v5.9.1 // indirect
)
