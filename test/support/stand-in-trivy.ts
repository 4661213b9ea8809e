// A stand-in `trivy` for real-engine tests of the vulnerability gate (no scanner or vulnerability
// database can be installed here): a script that reads the image from the engine, as Trivy's
// `--image-src docker` does, logs its calls and prints the Trivy JSON report the test writes.
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export function trivyReport(findings: { id: string; severity: string }[]): string {
  return JSON.stringify({
    SchemaVersion: 2,
    ArtifactType: "container_image",
    Results: [
      {
        Target: "vuln-app (busybox)",
        Class: "os-pkgs",
        Vulnerabilities: findings.map((f) => ({
          VulnerabilityID: f.id,
          PkgName: "busybox",
          InstalledVersion: "1.36.1",
          FixedVersion: "1.36.2",
          Status: "fixed",
          Severity: f.severity,
        })),
      },
    ],
  });
}

/** Writes `bin/trivy`; it prints `bin/report.json` (see `writeTrivyReport`) and logs each call to `bin/calls.log`. */
export async function writeStandInTrivy(bin: string): Promise<void> {
  await writeFile(
    join(bin, "trivy"),
    [
      "#!/bin/sh",
      `echo "$*" >> "${bin}/calls.log"`,
      'case "$1" in',
      `  version) echo '{"Version":"0.57.1","VulnerabilityDB":{"Version":2,"UpdatedAt":"2026-12-01T06:00:00Z"}}' ;;`,
      '  image) for ref; do :; done; docker image inspect "$ref" >/dev/null || exit 1',
      `    cat "${bin}/report.json" ;;`,
      '  *) echo "unexpected arguments: $*" >&2; exit 2 ;;',
      "esac",
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "trivy"), 0o755);
}

export async function writeTrivyReport(bin: string, findings: { id: string; severity: string }[]): Promise<void> {
  await writeFile(join(bin, "report.json"), trivyReport(findings));
}

/** Image references the stand-in scanned, in order. */
export async function trivyScans(bin: string): Promise<string[]> {
  const log = await readFile(join(bin, "calls.log"), "utf8").catch(() => "");
  return log
    .split("\n")
    .filter((line) => line.startsWith("image "))
    .map((line) => line.split(" ").pop() ?? "");
}
