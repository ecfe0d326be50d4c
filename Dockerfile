# The ENI server as a container image: a static binary on a distroless base.
# API only: the Linux data plane needs the host's network namespaces and
# CAP_NET_ADMIN/CAP_SYS_ADMIN, which a container is not meant to have.
#
#   docker build -t eni .
#   docker run --rm -p 127.0.0.1:4566:4566 -v eni-data:/data eni
# The Go of go.mod: the official images build with GOTOOLCHAIN=local.
ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/eni ./cmd/eni && mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/eni /eni
# The store lives in /data (a volume); the nonroot user (65532) owns it.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
EXPOSE 4566
USER nonroot
# Listening on every address of the container needs --allow-insecure-bind
# with --auth none: publish the port on the host's loopback only (as above),
# or run with --auth sigv4 --credentials FILE.
ENTRYPOINT ["/eni", "serve", "--listen", "0.0.0.0:4566", "--data", "/data", "--allow-insecure-bind"]
