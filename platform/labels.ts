// Label keys berth puts on what it creates, and the compose labels it reads.
export const LABELS = {
  managed: "io.berth.managed",
  stack: "io.berth.stack",
  service: "io.berth.service",
  specHash: "io.berth.spec-hash",
  revision: "io.berth.revision",
  image: "io.berth.image",
  inputHash: "io.berth.input-hash",
  machine: "io.berth.machine",
  composeProject: "com.docker.compose.project",
  composeService: "com.docker.compose.service",
  composeOneoff: "com.docker.compose.oneoff",
  composeConfigHash: "com.docker.compose.config-hash",
} as const;
