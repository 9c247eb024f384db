# idpmock: an offline twin of the PingOne and ZITADEL session APIs.
#
#   docker build -t idpmock .
#   docker run --rm -p 4010:4010 idpmock
#
# Plain Dockerfile on purpose (no syntax line, no RUN --mount): it builds the
# same with the legacy builder and with BuildKit, offline included.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first: a source-only change reuses the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Stamped into `idpmock version` (make image passes them).
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
# Static binary (no libc in the final stage); specs and fixtures are embedded.
# Without BuildKit cache mounts no later build can reuse Go's build cache, so
# drop it rather than keep it in the build stage the builder leaves behind.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${REVISION} -X main.date=${CREATED}" \
      -o /out/idpmock ./mock/cmd/idpmock \
 && go clean -cache

# No shell, no package manager: the binary is the whole image.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="idpmock" \
      org.opencontainers.image.description="Offline mock of the PingOne and ZITADEL session APIs: spec-validated, stateful, fixture-driven" \
      org.opencontainers.image.source="https://github.com/idpmock/idpmock" \
      org.opencontainers.image.url="https://github.com/idpmock/idpmock" \
      org.opencontainers.image.documentation="https://github.com/idpmock/idpmock#docker" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/idpmock /idpmock
# The binary defaults to loopback; inside a container it must listen on all
# interfaces or a port mapping reaches nothing.
ENV IDPMOCK_ADDR=0.0.0.0:4010
# 65532 = "nonroot" in distroless images. A mounted fixtures dir must be
# readable by it (chmod -R a+rX, or run with --user).
USER 65532:65532
EXPOSE 4010
# Exec form: there is no shell. `idpmock health` reads IDPMOCK_ADDR too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/idpmock", "health"]
ENTRYPOINT ["/idpmock"]
CMD ["serve"]
