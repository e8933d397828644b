// The `metronome` command line. Subcommands load their modules lazily so `--help` and `genesis`
// stay fast and never start libp2p.

import { parseLogLevel } from "@metronome/common";
import { DEFAULT_BASE_HTTP_PORT, DEFAULT_BASE_METRICS_PORT, DEFAULT_BASE_P2P_PORT } from "@metronome/devnet";
import { DEFAULT_DOPPELGANGER_SLOTS } from "@metronome/validator";
import { Command, Option } from "commander";
import { floatArg, indicesArg, intArg, listArg, portArg } from "./args.ts";
import { nodeIdArg, nodeOptionsWithAliases } from "./quickstartAliases.ts";

export const VERSION = "0.1.0";

/** The three per-node port bases `genesis` and `devnet` share: node k listens on base+k. */
function withBasePorts(cmd: Command): Command {
  return cmd
    .option("--base-port <port>", "libp2p TCP port of node 0 (node k uses base+k)", portArg, DEFAULT_BASE_P2P_PORT)
    .option("--base-http-port <port>", "HTTP API port of node 0 (node k uses base+k)", portArg, DEFAULT_BASE_HTTP_PORT)
    .option(
      "--base-metrics-port <port>",
      "metrics port of node 0 (node k uses base+k)",
      portArg,
      DEFAULT_BASE_METRICS_PORT,
    );
}

export function buildCli(): Command {
  const program = new Command()
    .name("metronome")
    .description("Metronome: a lean-consensus (3SF-mini, BLS) validator node that keeps time under gossip flood")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    // `validator` and its `slashing-protection` subcommands share flag names (--data-dir, --genesis).
    .enablePositionalOptions();

  withBasePorts(
    program
      .command("genesis")
      .description("write a fresh devnet genesis: chain config, validator split over nodes, node keys, bootnodes")
      .requiredOption("--validators <n>", "number of validators (interop keys 0..n-1)", intArg(1, 4096))
      .requiredOption("--nodes <k>", "number of nodes the validators are split over", intArg(1, 4096))
      .requiredOption("--out <dir>", "folder to write the genesis into")
      .option("--genesis-delay <s>", "seconds from now until genesis", intArg(0, 86_400), 10)
      .option("--genesis-time <unix>", "explicit genesis time in unix seconds (overrides --genesis-delay)", intArg(0))
      .option("--slot-seconds <s>", "slot length in seconds (protocol default 4; shorter for tests)", floatArg(0), 4)
      .option("--aggregators <m>", "how many nodes (the first m) act as aggregators", intArg(0, 4096), 1)
      .option(
        "--committee-count <c>",
        "attestation subnets (a vote goes on subnet validator_index % c); with c >= nodes each node's validators share one subnet",
        intArg(1, 4096),
        1,
      )
      .option("--host <ip>", "loopback address nodes listen on", "127.0.0.1"),
  ).action(async (opts) => {
    const { runGenesis } = await import("@metronome/devnet");
    const result = await runGenesis(opts);
    console.log(
      `genesis written to ${opts.out}: ${opts.validators} validators over ${opts.nodes} nodes, fork digest ${result.chain.forkDigest}, genesis time ${result.chain.genesisTime}`,
    );
  });

  const node = program
    .command("node")
    .enablePositionalOptions()
    .description("run one validator node of a devnet")
    .option("--genesis <dir>", "genesis folder written by `metronome genesis` (required)")
    .option(
      "--node-id <id>",
      "this node's entry in the genesis nodes.json, or a lean-quickstart name ending in _<id> such as metronome_0 (required)",
      nodeIdArg,
    )
    .option(
      "--data-dir <dir>",
      "database and slashing-protection folder (created if missing; a restart resumes from it) (required)",
    )
    .option("--listen <multiaddr>", "libp2p listen address (default: this node's entry in nodes.json)")
    .option("--bootnodes <list>", "comma-separated bootnode multiaddrs (default: genesis bootnodes.txt)", listArg)
    .option("--validator-indices <list>", 'validators this node runs, e.g. "0-7" (default: nodes.json)', indicesArg)
    .option("--is-aggregator", "aggregate attestations at interval 2 (default: nodes.json)")
    .option("--no-validators", "run as a follower without validator duties")
    .option("--http-port <port>", "HTTP API port, 0 to disable (default: nodes.json, else 5052)", portArg)
    .option("--metrics-port <port>", "Prometheus /metrics port, 0 to disable (default: nodes.json, else 8008)", portArg)
    .option("--http-host <ip>", "address the HTTP and metrics servers bind", "127.0.0.1")
    .option(
      "--validator-api",
      "serve the /lean/v0/validator/ routes for a separate validator client (off by default; bound off loopback they need the bearer token)",
    )
    .option(
      "--api-token-file <path>",
      "bearer token file for the validator routes, always required when given (default: <data-dir>/api-token.txt, generated and required only when --http-host is not loopback)",
    )
    .option(
      "--checkpoint-sync-url <url>",
      "start an empty data dir from this node's finalized state (its /lean/v0/states|blocks/finalized) instead of genesis",
    )
    .option(
      "--max-batch <n>",
      "queued gossip items the main loop handles per pass before servicing the clock (0 = unbounded: only for the flood benchmark's ablation)",
      intArg(0, 1_000_000),
      64,
    )
    .option(
      "--gossip-mesh-degree <d>",
      "gossip mesh degree D, with D_low/D_high/D_lazy scaled alike (default 8 as PROTOCOL.md; lower only to test multi-hop meshes)",
      intArg(1, 64),
    )
    .option(
      "--no-peer-score-disconnects",
      "keep every peer connected whatever its score: no score disconnections or bans (gossipsub still graylists); a control for the flood benchmark, not for a real network",
    )
    .option(
      "--bls-workers <n>",
      "worker threads verifying attestation signatures; 0 = on the main thread (default: cores - 1, at least 1)",
      intArg(0, 64),
    )
    .addOption(
      new Option(
        "--network-thread <where>",
        "where libp2p, gossipsub, req/resp and gossip decoding run: worker = their own thread, restarted if it dies; main = the main thread (for comparison)",
      )
        .choices(["worker", "main"])
        .default("worker")
        .env("METRONOME_NETWORK_THREAD"),
    )
    .addOption(
      new Option(
        "--debug-sigusr2-kills-network-worker",
        "debug: SIGUSR2 terminates the network worker as if it had crashed (the restart test)",
      ).hideHelp(),
    )
    .option(
      "--doppelganger-slots <n>",
      "after a start, full slots (counted once synced) to watch the network for this node's validators before signing; 0 = off " +
        "(skipped anyway when starting before or in slot 0 with an empty slashing-protection record)",
      intArg(0, 1024),
      DEFAULT_DOPPELGANGER_SLOTS,
    )
    .addOption(
      new Option("--log-level <level>", "error | warn | info | debug | trace").default("info").argParser(parseLogLevel),
    )
    .addOption(new Option("--log-format <format>", "log line format").choices(["text", "json"]).default("text"))
    .option(
      "--node-key <file>",
      "libp2p identity key: a file holding a 32-byte hex seed (default: <genesis>/keys/node-<id>.key)",
    )
    // lean-quickstart's flag names (docs/operations.md, "lean-quickstart flags"): same options.
    .option("--custom-genesis <dir>", "lean-quickstart alias of --genesis")
    .option("--genesis-dir <dir>", "lean-quickstart alias of --genesis")
    .option("--api-port <port>", "lean-quickstart alias of --http-port", portArg)
    .option("--http-address <ip>", "lean-quickstart alias of --http-host")
    .option("--api-host <ip>", "lean-quickstart alias of --http-host")
    .option("--aggregator", "lean-quickstart alias of --is-aggregator")
    .option("--listen-addr <multiaddr>", "lean-quickstart alias of --listen (TCP only: Metronome has no QUIC)")
    .addOption(
      new Option(
        "--metrics-enable",
        "lean-quickstart flag; accepted, metrics are on unless --metrics-port 0",
      ).hideHelp(),
    )
    .addOption(new Option("--metrics", "lean-quickstart flag; accepted, as --metrics-enable").hideHelp())
    .action(async (raw, cmd: Command) => {
      let opts: typeof raw;
      try {
        opts = nodeOptionsWithAliases(raw, (key) => cmd.getOptionValueSource(key) === "default");
      } catch (e) {
        cmd.error(`error: ${(e as Error).message}`);
      }
      // Checked here, not with requiredOption: the slashing-protection subcommands do not take
      // them, and --genesis may come as a lean-quickstart alias.
      for (const [flag, key] of [
        ["--genesis", "genesis"],
        ["--node-id", "nodeId"],
        ["--data-dir", "dataDir"],
      ] as const) {
        if (opts[key] === undefined) node.error(`error: required option '${flag}' not specified`);
      }
      const { runNodeCommand } = await import("./nodeCommand.ts");
      await runNodeCommand(opts);
    });

  const nodeSlashingProtection = node
    .command("slashing-protection")
    .description(
      "export or import the node's slashing-protection record (JSON interchange, see docs/validator-client.md)",
    );
  for (const [name, what] of [
    ["export", "write the record of the node's --data-dir to --file"],
    ["import", "merge --file into the record of the node's --data-dir (a bad file changes nothing)"],
  ] as const) {
    nodeSlashingProtection
      .command(name)
      .description(`${what}; the node must not be running on that data dir`)
      .requiredOption("--data-dir <dir>", "the node's data dir")
      .requiredOption("--genesis <dir>", "genesis folder (names the chain the record belongs to)")
      .requiredOption("--file <path>", "the interchange JSON file")
      .action(async (opts) => {
        const cmd = await import("./nodeCommand.ts");
        const run = name === "export" ? cmd.runNodeSlashingProtectionExport : cmd.runNodeSlashingProtectionImport;
        console.log(await run(opts));
      });
  }

  withBasePorts(
    program
      .command("devnet")
      .description("start a local devnet: fresh genesis, K node processes on loopback, a live status table")
      .option("--nodes <k>", "number of nodes", intArg(1, 64), 4)
      .option("--validators <n>", "total validators (split evenly)", intArg(1, 4096), 32)
      .option("--slot-seconds <s>", "slot length in seconds", floatArg(0), 4)
      .option(
        "--genesis-delay <s>",
        "seconds from launch until genesis (default: 8, or 3 + 2 per node when larger, so every node has booted)",
        intArg(1, 3600),
      )
      .option(
        "--duration <s>",
        "stop after this many seconds, write summary.json, exit non-zero if finality failed",
        intArg(1),
      )
      .option("--out <dir>", "output folder for genesis, data dirs, logs and summary.json", ".devnet"),
  )
    .option("--aggregators <m>", "how many nodes aggregate", intArg(0, 64), 1)
    .option(
      "--committee-count <c>",
      "attestation subnets; each node joins its validators' subnets, aggregators join all (default: 1 up to 8 nodes or with --ring, else one per node)",
      intArg(1, 4096),
    )
    .option(
      "--ring <k>",
      "each node dials only its next k nodes on a ring (about 2k peers each), so most votes need several gossip hops (default: every node dials every other)",
      intArg(1, 63),
    )
    .option("--mesh-degree <d>", "gossip mesh degree D of every node (default 8, PROTOCOL.md)", intArg(1, 64))
    .option("--quiet", "no live table (summary only)")
    .addOption(new Option("--log-level <level>", "node log level").default("info").argParser(parseLogLevel))
    .addOption(
      new Option(
        "--runtime <runtime>",
        "process: node processes on this host; docker: a compose project of the metronome image (host networking) with Prometheus, see docs/operations.md",
      )
        .choices(["process", "docker"])
        .default("process"),
    )
    .option(
      "--netns",
      "each node in its own network namespace and address (10.99.0.10+k) on a bridge the run creates and removes (root, iproute2)",
    )
    .option("--prometheus-port <port>", "docker runtime: Prometheus on 127.0.0.1:<port>, 0 for none", portArg, 9090)
    .option("--image <tag>", "docker runtime: node image (deploy/docker/build-image.sh)", "metronome:local")
    .option("--prometheus-image <tag>", "docker runtime: Prometheus image", "metronome/prometheus:local")
    .action(async (opts) => {
      const { runDevnet } = await import("@metronome/devnet");
      process.exitCode = await runDevnet(opts);
    });

  const validator = program
    .command("validator")
    .enablePositionalOptions()
    .description(
      "run a validator client: sign the given validators' duties through one or more beacon nodes, with slashing protection",
    )
    .option(
      "--beacon-nodes <urls>",
      "comma-separated beacon node HTTP API URLs; ranked by sync and head, the order breaks ties (required)",
      listArg,
    )
    .option("--validator-indices <list>", 'validators to run, e.g. "24-31" (interop keys; required)', indicesArg)
    .option("--data-dir <dir>", "folder for the slashing-protection record and the API token (required)")
    .option("--genesis <dir>", "genesis folder written by `metronome genesis` (required)")
    .option("--http-port <port>", "admin API port (beacon node list), 0 to disable", portArg, 5062)
    .option("--metrics-port <port>", "Prometheus /metrics port, 0 to disable", portArg, 5064)
    .option("--http-host <ip>", "address the admin API and metrics servers bind", "127.0.0.1")
    .option(
      "--token-file <path>",
      "admin API bearer token file (default: <data-dir>/api-token.txt, generated if missing)",
    )
    .option(
      "--beacon-node-token-file <path>",
      "bearer token file of the beacon nodes' validator routes (their api-token.txt; needed when they bind off loopback)",
    )
    .option(
      "--request-timeout-ms <ms>",
      "deadline of one beacon node request (default: a third of a slot)",
      intArg(50, 60_000),
    )
    .addOption(
      new Option("--log-level <level>", "error | warn | info | debug | trace").default("info").argParser(parseLogLevel),
    )
    .addOption(new Option("--log-format <format>", "log line format").choices(["text", "json"]).default("text"))
    .action(async (opts) => {
      // Checked here, not with requiredOption: the slashing-protection subcommands do not take them.
      for (const [flag, key] of [
        ["--beacon-nodes", "beaconNodes"],
        ["--validator-indices", "validatorIndices"],
        ["--data-dir", "dataDir"],
        ["--genesis", "genesis"],
      ] as const) {
        if (opts[key] === undefined) validator.error(`error: required option '${flag}' not specified`);
      }
      const { runValidatorCommand } = await import("./validatorCommand.ts");
      await runValidatorCommand(opts);
    });

  const slashingProtection = validator
    .command("slashing-protection")
    .description("export or import the slashing-protection record (JSON interchange, see docs/validator-client.md)");
  for (const [name, what] of [
    ["export", "write the record of --data-dir to --file"],
    ["import", "merge --file into the record of --data-dir (a bad file changes nothing)"],
  ] as const) {
    slashingProtection
      .command(name)
      .description(`${what}; the validator client must not be running on that data dir`)
      .requiredOption("--data-dir <dir>", "the validator client's data dir")
      .requiredOption("--genesis <dir>", "genesis folder (names the chain the record belongs to)")
      .requiredOption("--file <path>", "the interchange JSON file")
      .action(async (opts) => {
        const cmd = await import("./validatorCommand.ts");
        const run = name === "export" ? cmd.runSlashingProtectionExport : cmd.runSlashingProtectionImport;
        console.log(await run(opts));
      });
  }

  program
    .command("flood")
    .description("flood one node of a devnet with gossip attestations in a chosen mix (benchmark tool)")
    .requiredOption("--target <multiaddr>", "the node's libp2p address, ending in /p2p/<peer id>")
    .requiredOption("--genesis <dir>", "the devnet's genesis folder (fork digest, interop validator keys)")
    .option("--rate <n>", "messages per second, all identities together", floatArg(0), 1000)
    .option(
      "--peers <n>",
      "distinct peer identities (libp2p hosts, each with its own key) sharing the rate in turn: a Sybil flood when > 1",
      intArg(1, 64),
      1,
    )
    .option("--duration <s>", "seconds to flood (Ctrl-C stops earlier)", intArg(1), 60)
    .option(
      "--mix <list>",
      "kind=weight,... of: valid, redundant (aggregates adding no participant), invalid_sig, unknown_root, future_slot, duplicate, malformed",
      "valid=20,invalid_sig=40,unknown_root=20,future_slot=5,duplicate=5,malformed=10",
    )
    .option("--http <url>", "the node's HTTP API (default: from nodes.json)")
    .option("--subnet <n>", "attestation subnet to flood", intArg(0, 63), 0)
    .option("--report-seconds <s>", "progress line every s seconds (0: none)", intArg(0), 5)
    .option("--summary-file <path>", "write the final counts as JSON")
    .action(async (opts) => {
      const { runFloodCommand } = await import("@metronome/flood");
      await runFloodCommand(opts);
    });

  return program;
}
