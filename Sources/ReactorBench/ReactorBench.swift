import ArgumentParser

/// `reactor-bench`: the framed echo server and the load driver that measures it.
@main
struct ReactorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor-bench",
        abstract: "Benchmark swift-reactor: an embedded framed echo server and a load driver.",
        subcommands: [RunCommand.self, ServeCommand.self, LoadCommand.self, CompareCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
