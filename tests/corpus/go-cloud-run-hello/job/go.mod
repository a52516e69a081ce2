module github.com/googlecloudplatform/cloud-run-hello/jobs

go 1.22.5
