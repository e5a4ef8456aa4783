# syntax=docker/dockerfile:1
# Mend's one binary in a small image: built with the Go toolchain, run on
# distroless as a non-root user. Templates, CSS, migrations and policies are
# embedded in the binary, so the image holds nothing else.

FROM golang:1.27.3 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO off: every dependency is pure Go, so the binary runs on a static base.
# timetzdata embeds the IANA zone database, which Mend needs for every
# person's time zone, whatever the base image carries.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/mend ./cmd/mend

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mend /usr/local/bin/mend
USER nonroot:nonroot
EXPOSE 8080
# serve = web and worker in one process; compose.yaml runs them apart.
CMD ["mend", "serve"]
