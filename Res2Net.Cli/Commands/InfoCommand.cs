using System.CommandLine;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net info</c>: the compiled networks, or one network's counts and layers.</summary>
internal static class InfoCommand
{
    public static Command Create(TextWriter stdout)
    {
        var name = new Argument<string?>("NAME") { Description = "A network to describe; omit to list them all.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("info", "List the compiled networks, or show one: params, FLOPs, input size and a table of its layers.") { name };
        command.SetAction(parse =>
        {
            var console = Terminal.For(stdout);
            string? n = parse.GetValue(name);
            if (n == null) List(console);
            else Describe(console, Res2NetModels.Create(n).Info);
            return 0;
        });
        return command;
    }

    private static void List(IAnsiConsole console)
    {
        var table = new Table().AddColumn("model").AddColumn(new TableColumn("params").RightAligned())
            .AddColumn(new TableColumn("FLOPs").RightAligned()).AddColumn("input").AddColumn("spec");
        foreach (var m in Res2NetModels.All)
        {
            table.AddRow(Markup.Escape(m.Name), m.ParamsMillions, m.FlopsGiga, $"3×{m.InputHeight}×{m.InputWidth}", Markup.Escape(m.SpecFile));
        }
        console.Write(table);
    }

    private static void Describe(IAnsiConsole console, NetworkInfo m)
    {
        var c = CultureInfo.InvariantCulture;
        var summary = new Grid().AddColumn().AddColumn();
        summary.AddRow("model", Markup.Escape(m.Name));
        summary.AddRow("class", Markup.Escape(m.ClassName) + $" (from {Markup.Escape(m.SpecFile)})");
        summary.AddRow("architecture", m.Depth != 0 ? $"Res2Net-{m.Depth}" : $"blocks [{string.Join(", ", m.Blocks)}]");
        summary.AddRow("base width × scales", $"{m.BaseWidth} × {m.Scales}");
        summary.AddRow("stem", m.Stem + (m.AvgDown ? ", avg_down" : ""));
        summary.AddRow("input", $"3×{m.InputHeight}×{m.InputWidth}");
        summary.AddRow("classes", m.NumClasses.ToString(c));
        summary.AddRow("params", $"{m.ParamsMillions} ({m.Params.ToString("N0", c)})");
        summary.AddRow("FLOPs", $"{m.FlopsGiga} ({m.Flops.ToString("N0", c)})");
        // What the kernels allocate, from the layer table: the arena, the largest gathered B, and per thread the largest
        // direct-conv planes or packed B tiles, for the schedule this machine runs.
        bool avx512 = Res2Net.Runtime.Kernels.VectorWidth.Avx512;
        int threads = Res2Net.Runtime.Kernels.Workers.MaxThreads;
        summary.AddRow("activation memory", $"{(m.ActivationBytes(avx512, threads) / 1048576.0).ToString("0.0", c)} MiB per forward " +
            $"({(avx512 ? "AVX-512" : "AVX2")} schedule, {threads} thread{(threads == 1 ? "" : "s")}; arena {(4.0 * m.ArenaFloats / 1048576).ToString("0.0", c)} MiB)");
        if (m.CheckpointUrl != null) summary.AddRow("checkpoint", Markup.Escape(m.CheckpointUrl));
        console.Write(summary);

        var layers = new Table().AddColumn("module").AddColumn("computes").AddColumn("input").AddColumn("output")
            .AddColumn(new TableColumn("params").RightAligned()).AddColumn(new TableColumn("FLOPs").RightAligned()).AddColumn("runs as");
        foreach (var l in m.Layers)
        {
            layers.AddRow(Markup.Escape(l.Module), Markup.Escape(l.Description), $"[[{string.Join(", ", l.InputShape)}]]",
                $"[[{string.Join(", ", l.OutputShape)}]]", l.Params.ToString("N0", c), l.Flops.ToString("N0", c),
                Markup.Escape(l.ScheduleHere?.Description ?? l.Kind.ToString()));
        }
        console.Write(layers);
    }
}
