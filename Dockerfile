# berth's own image: the agent as compiled JavaScript on Debian trixie (nodejs 20.19 from apt)
# with the docker CLI, compose v2, buildx, git and tini.
#
#   bash scripts/test-env.sh --trixie    # debian:trixie-slim made offline (debootstrap + docker import)
#   docker compose -f deploy/compose.yaml build      # or: docker build -t berth-agent:0.1.0 .
#
# It runs as root on purpose: berth drives the host's Docker socket (mounted at
# /var/run/docker.sock), which is root-equivalent anyway; a non-root user in the docker group
# would have the same power. Keep the socket and the API token as the trust boundary.
ARG BASE=debian:trixie-slim

# --- build: npm ci, bundle, then drop the dev dependencies ------------------------------------
FROM ${BASE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# The optional build secret `ca` is a CA bundle for reaching the npm registry through a
# TLS-inspecting proxy (deploy/compose.yaml passes the host's /etc/ssl/certs bundle).
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export npm_config_cafile=/run/secrets/ca; fi \
 && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --loglevel=error

# --- runtime: no TypeScript, no npm --------------------------------------------------------------
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nodejs docker-cli docker-compose docker-buildx git tini ca-certificates openssh-client >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && node -e 'const [M, m] = process.versions.node.split(".").map(Number); if (M < 20 || (M === 20 && m < 19)) { console.error(`nodejs ${process.versions.node} < 20.19`); process.exit(1); }' \
 && docker compose version && docker buildx version
WORKDIR /opt/berth
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/bin bin
RUN ln -s /opt/berth/bin/berth.cjs /usr/local/bin/berth && berth --version
ENV BERTH_STATE_DIR=/var/lib/berth NODE_ENV=production
VOLUME /var/lib/berth
EXPOSE 9464
LABEL org.opencontainers.image.title="berth" \
      org.opencontainers.image.description="A Kubernetes-style reconciling agent for Docker Compose hosts" \
      org.opencontainers.image.licenses="Apache-2.0"
USER root
ENTRYPOINT ["/usr/bin/tini", "--", "berth"]
CMD ["agent"]
