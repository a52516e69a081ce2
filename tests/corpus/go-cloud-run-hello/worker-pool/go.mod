module github.com/googlecloudplatform/cloud-run-hello/workerpool

go 1.22.5
