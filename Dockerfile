# syntax=docker/dockerfile:1
#
# syncworker in a container. The SQLite driver needs cgo, so the binary is
# built with the Go version go.mod names on Debian 12 and runs on a small
# Debian 12 image with the same glibc (distroless "base": glibc, CA
# certificates, tzdata, no shell), as the non-root user 65532.
#
#   docker build -t syncworker:dev .
#   docker run --rm syncworker:dev version
#   docker run --rm -v syncworker-state:/var/lib/syncworker \
#     -v "$PWD/tenants:/etc/syncworker:ro" --env-file acme.env \
#     syncworker:dev once -config /etc/syncworker
#
# Paths (deploy/ refers to them; the manifests test checks they agree):
#   /usr/local/bin/syncworker  the binary, the ENTRYPOINT
#   /etc/syncworker            tenant files, mounted read-only
#   /var/lib/syncworker        the working directory and the state volume:
#                              state_path's default ./state/<tenant>.db
#                              lands on it

# GO_VERSION follows the go directive of go.mod.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# timetzdata embeds the zone database: schedules with CRON_TZ= and each
# tenant's timezone work whatever the runtime image carries. The build
# context has no .git, so nothing is stamped from version control.
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false -tags timetzdata -ldflags="-s -w" \
      -o /out/syncworker ./cmd/syncworker \
 && /out/syncworker -h >/dev/null 2>&1 \
 && mkdir -p /out/state

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/syncworker /usr/local/bin/syncworker
# The state directory belongs to the non-root user, so that a new volume
# mounted there (docker copies the image's ownership) is writable.
COPY --from=build --chown=65532:65532 /out/state /var/lib/syncworker
USER 65532:65532
WORKDIR /var/lib/syncworker
VOLUME ["/var/lib/syncworker"]
# run -listen :9090 serves /metrics, /healthz, /readyz and the status page.
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/syncworker"]
CMD ["-h"]
