# Hand-written multi-stage build, as the small-images playbook teaches it: compile on the Go image,
# ship the binary on a small runtime base. {fat-go} and {distroless-static} are filled in by
# benchmarks/build.py with pare's base images.
FROM {fat-go} AS build
WORKDIR /src
COPY go.mod ./
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .

FROM {distroless-static}
COPY --from=build /out/app /app
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/app"]
