# One image pattern for every service, built from the repository root:
#
#   docker build --build-arg SERVICE=ingest -t snotibridge/ingest .
#
# SERVICE is a folder of services/. The build uses a workspace holding only
# pkg, schemas and that service, so no other service's code or modules enter
# the image. The only downloads are Go modules (cached across builds); the
# result is one static binary on distroless, running as nonroot. Needs
# BuildKit (Docker 23+), whose built-in frontend knows RUN --mount; no
# "# syntax=" line, so no frontend image is pulled either.
#
# GO_IMAGE and RUNTIME_IMAGE take a tag or name:tag@sha256:<digest>; a release
# build passes both pinned by digest (docker buildx imagetools inspect <image>
# prints it), so a rebuilt tag upstream cannot change the image silently.

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "set --build-arg SERVICE=<a folder of services/>" >&2; exit 1; }
# The go lines of the modules must not make Go fetch another toolchain.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath
WORKDIR /src

# Module files first, so the download layer is reused until they change.
COPY go.work.sum ./
COPY pkg/go.mod pkg/go.sum pkg/
COPY schemas/go.mod schemas/
COPY services/${SERVICE}/go.mod services/${SERVICE}/go.su[m] services/${SERVICE}/
RUN go work init ./pkg ./schemas ./services/${SERVICE}
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY pkg/ pkg/
COPY schemas/ schemas/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    go build -ldflags="-s -w" -o /out/service ./services/${SERVICE}

# A static HTTP probe for docker compose health checks: distroless has no
# shell, curl or wget. It imports only the standard library.
COPY tools/deploycheck/cmd/httpprobe/main.go /probe/main.go
RUN --mount=type=cache,target=/root/.cache/go-build \
    cd /probe && GOWORK=off go build -ldflags="-s -w" -o /out/httpprobe main.go

# A nonroot-owned folder: a named volume mounted on /data starts with its
# owner, so simulators can write generated keys and certificates there.
RUN mkdir -p /out/data

FROM ${RUNTIME_IMAGE}
ARG SERVICE
LABEL org.opencontainers.image.title="snotibridge-${SERVICE}" \
      org.opencontainers.image.source="https://github.com/snotibridge/snotibridge"
COPY --from=build /out/service /usr/local/bin/service
COPY --from=build /out/httpprobe /usr/local/bin/httpprobe
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/service"]
