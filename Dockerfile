# The worker image: the static queue-processor binary and CA certificates, nothing else (no shell, no package
# manager, no base image to pull). deploy/build-image.sh builds the binaries and the build context first; CodeBuild
# runs the same script. Multi-arch: the build's TARGETARCH (amd64, arm64) picks the binary.
FROM scratch
ARG TARGETARCH
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY ${TARGETARCH}/queue-processor /queue-processor
# A numeric non-root user: the worker needs no privilege and no file system.
USER 65534:65534
# Exec form: the process is PID 1 and receives SIGTERM from ECS directly, so it drains before stopping.
ENTRYPOINT ["/queue-processor"]
