# Rollwright's worker / webhook image: the installed wheel and nothing else of the checkout, with the pulumi CLI
# built at exactly the pulumi Python package's version. Services run the installed entry points
# (`rollwright`, `python -m worker`); .dockerignore keeps the test and demo aids out of the build context.
ARG PULUMI_VERSION=3.260.0
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM golang:1.26-bookworm AS pulumi
ARG PULUMI_VERSION
WORKDIR /build
RUN printf 'module rollwright.local/pulumi-cli\n\ngo 1.25\n' > go.mod \
 && printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > tools.go \
 && GOFLAGS=-mod=mod go get github.com/pulumi/pulumi/pkg/v3@v${PULUMI_VERSION} github.com/pulumi/pulumi/sdk/v3@v${PULUMI_VERSION} \
 && GOFLAGS=-mod=mod go mod tidy \
 && GOFLAGS=-mod=mod go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}" \
      -o /out/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM ${PYTHON_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
COPY --from=pulumi /out/pulumi /usr/local/bin/pulumi
RUN printf '#!/bin/sh\nexec "${PULUMI_PYTHON_CMD:-python3}" -u -m pulumi.dynamic "$@"\n' \
      > /usr/local/bin/pulumi-resource-pulumi-python && chmod +x /usr/local/bin/pulumi-resource-pulumi-python
# Policy packs run in a venv of their own (pulumi-policy pins protobuf 5.29); each worker copies the launcher from the
# cache into its PULUMI_HOME. The cache is nobody's: the dynamic-provider launcher is written there at start-up.
ENV ROLLWRIGHT_CACHE=/opt/rollwright-cache
ARG PULUMI_VERSION
RUN pins=$(python -c 'import pathlib, rollwright.policy as p; print(pathlib.Path(p.__file__).with_name("requirements.txt"))') \
 && python -m venv "$ROLLWRIGHT_CACHE/policy-venv" \
 && "$ROLLWRIGHT_CACHE/policy-venv/bin/pip" install --no-cache-dir "pulumi==${PULUMI_VERSION}" -r "$pins" \
 && plugin="$ROLLWRIGHT_CACHE/pulumi/v${PULUMI_VERSION}/plugins/analyzer-policy-python-v0.0.1" && mkdir -p "$plugin" \
 && printf '#!/bin/sh\nexec "${PULUMI_POLICY_PYTHON_CMD:-%s}" -u -m pulumi.policy "$@"\n' \
      "$ROLLWRIGHT_CACHE/policy-venv/bin/python" > "$plugin/pulumi-analyzer-policy-python" \
 && chmod +x "$plugin/pulumi-analyzer-policy-python" && chown -R nobody:nogroup "$ROLLWRIGHT_CACHE/pulumi"
ENV PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# nobody has no writable home; Pulumi and git need one. Named volumes mounted on /var/lib/rollwright copy
# this directory's ownership when first created, so the volume is nobody's too.
RUN mkdir -p /var/lib/rollwright/home/.pulumi && chown -R nobody:nogroup /var/lib/rollwright
ENV HOME=/var/lib/rollwright/home PULUMI_HOME=/var/lib/rollwright/home/.pulumi
# No source here: imports resolve to site-packages only.
WORKDIR /var/lib/rollwright
USER nobody
