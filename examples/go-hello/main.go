// go-hello: the smallest useful web server; answers GET / on $PORT (default 8080).
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "hello from go-hello")
	})
	log.Printf("go-hello listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
