using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>res2net inspect CHECKPOINT [--spec OUT.json]</c>: which Res2Net a checkpoint holds, read from its tensor shapes
/// (<see cref="ArchitectureInference"/>), and the spec that compiles a network to load it.
/// </summary>
internal static class InspectCommand
{
    private const int MinInput = 32, MaxInput = 8192, DefaultInput = 224;

    public static Command Create(TextWriter stdout)
    {
        var input = new Argument<FileInfo>("CHECKPOINT")
        {
            Description = "The checkpoint (.pth in torch's zip or legacy format, or .safetensors; mmpretrain, official Res2Net or timm names): " +
                          "a file, or an http(s) URL fetched once into the cache.",
        };
        var spec = new Option<FileInfo?>("--spec")
        {
            HelpName = "OUT.json",
            Description = "Also write the network spec that loads the checkpoint (add it to networks/ to compile the network). " +
                          "An existing spec is replaced; any other file only with --force.",
        };
        var json = new Option<bool>("--json") { Description = "Print what was found, and the spec, as JSON." };
        var name = new Option<string?>("--name")
        {
            HelpName = "NAME",
            Description = "The spec's name (what --model takes). Default: the checkpoint's file name without its extension.",
        };
        var inputSize = new Option<int[]>("--input-size")
        {
            HelpName = "H [W]",
            Description = $"The spec's input size in pixels, {MinInput} to {MaxInput} (a checkpoint does not record it); one value for a square. Default: {DefaultInput}.",
            AllowMultipleArgumentsPerToken = true,
            Arity = new ArgumentArity(1, 2),
        };
        var force = OutputOptions.Force();
        var command = new Command("inspect",
            "Say which Res2Net a checkpoint holds, from its tensor shapes alone: depth or blocks per stage, base width, scales, stem, " +
            "avg_down, classes and key layout; with --spec, write the network spec that loads it. A checkpoint that is not a Res2Net " +
            "this project compiles is named with the first tensor that does not fit.\n\n" +
            "Examples:\n" +
            "  res2net inspect res2net50_26w_4s-06e79181.pth\n" +
            "  res2net inspect model.safetensors --spec networks/my-res2net.json --name my-res2net --input-size 256\n" +
            "  res2net inspect https://download.openmmlab.com/mmclassification/v0/res2net/res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth --json")
        {
            input, spec, json, name, inputSize, force,
        };
        command.SetAction(parse =>
        {
            var source = parse.GetRequiredValue(input);
            var specFile = parse.GetValue(spec);
            var (height, width) = InputSize(parse.GetValue(inputSize));
            string? chosenName = parse.GetValue(name);
            if (chosenName != null && NetworkSpecFile.NameProblem(chosenName) is { } nameProblem)
                throw new CliException($"--name {DisplayText.Shorten(chosenName)}: {nameProblem}.");

            string inputPath = CheckpointLocator.InputPath(source);   // a URL that cannot be fetched fails here, before any download
            string? specPath = null;
            if (specFile != null)
            {
                if (!specFile.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase))
                    throw new CliException($"--spec must name a .json file (the generator compiles networks/*.json), got {specFile.Name}.");
                specPath = OutputPath.Check(specFile.FullName, OutputKind.NetworkSpec, parse.GetValue(force), [inputPath]);
            }
            string path = CheckpointLocator.ResolveFile(source, parse.InvocationConfiguration.Error);

            using var file = CheckpointFile.Open(path);
            var architecture = ArchitectureInference.Infer(file.StateDict);
            var caveats = ArchitectureInference.Caveats(architecture, file.Layout);
            string specName = chosenName ?? DefaultName(path, architecture);
            string text = NetworkSpecFile.Text(architecture, specName, height, width);
            if (specPath != null)
            {
                using var writer = AtomicFileWriter.Create(specPath);
                writer.Stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
                writer.Commit();
            }

            if (parse.GetValue(json)) WriteJson(stdout, file, architecture, caveats, text, specPath);
            else Report(stdout, file, architecture, caveats, text, specPath);
            return 0;
        });
        return command;
    }

    private static (int Height, int Width) InputSize(int[]? values)
    {
        if (values == null || values.Length == 0) return (DefaultInput, DefaultInput);
        if (values.Any(v => v is < MinInput or > MaxInput))
            throw new CliException($"--input-size takes {MinInput} to {MaxInput} pixels (the network's total stride is 32), got {string.Join(" ", values)}.");
        return (values[0], values.Length > 1 ? values[1] : values[0]);
    }

    /// <summary>
    /// The checkpoint's file name without its extensions (<c>.pth</c>, <c>.pth.tar</c>, <c>.safetensors</c>...), which is
    /// how users know the model; the architecture's short name when that cannot be a spec's name.
    /// </summary>
    private static string DefaultName(string path, Res2NetArchitecture architecture)
    {
        string stem = Path.GetFileName(path);
        foreach (string extension in (string[])[".tar", ".pth", ".pt", ".ckpt", ".bin", ".safetensors"])
        {
            if (stem.EndsWith(extension, StringComparison.OrdinalIgnoreCase) && stem.Length > extension.Length) stem = stem[..^extension.Length];
        }
        return NetworkSpecFile.NameProblem(stem) == null ? stem : architecture.ShortName;
    }

    private static void Report(TextWriter stdout, CheckpointFile file, Res2NetArchitecture a, IReadOnlyList<string> caveats, string spec, string? specPath)
    {
        var c = CultureInfo.InvariantCulture;
        string Show(string text) => Markup.Escape(DisplayText.Escape(text));
        string List(Func<int, int> perStage) => string.Join(", ", Enumerable.Range(0, 4).Select(s => perStage(s).ToString(c)));

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("checkpoint", Show(file.SourcePath));
        grid.AddRow("format", Show($"{file.Format.Describe()}, wrapper '{file.Wrapper}', {file.StateDict.Count} tensors"));
        grid.AddRow("layout", Show(file.Layout.Description));
        grid.AddRow("network", Show(a.Description));
        grid.AddRow("depth", a.Depth != 0
            ? $"{a.Depth}: blocks {List(s => a.Blocks[s])}"
            : $"blocks {List(s => a.Blocks[s])} (not Res2Net-50, 101 or 152: the spec lists them)");
        grid.AddRow("base width", $"{a.BaseWidth}: splits of {List(a.SplitWidth)} channels in layer1 to layer4");
        grid.AddRow("scales", a.Scales.ToString(c));
        grid.AddRow("stem", a.Stem == Res2NetArchitecture.DeepStem
            ? $"deep: three 3×3 convs, 3 → {a.StemChannels / 2} → {a.StemChannels / 2} → {a.StemChannels} channels"
            : $"plain: a 7×7 conv, 3 → {a.StemChannels} channels");
        grid.AddRow("avg_down", a.AvgDown ? "yes: shortcuts average-pool before their 1×1 conv" : "no: shortcuts are strided 1×1 convs");
        grid.AddRow("base channels", $"{a.BaseChannels}: layer1 to layer4 output {List(a.StageChannels)}");
        grid.AddRow("classes", a.NumClasses.ToString(c));
        grid.AddRow("params", $"{(a.Params / 1e6).ToString("0.00", c)}M ({a.Params.ToString("N0", c)})");
        foreach (string caveat in caveats) grid.AddRow("note", Show(caveat));
        grid.AddRow("spec", specPath != null
            ? $"written to {Show(specPath)}"
            : "below; --spec OUT.json writes it (--name and --input-size set its name and input size)");
        var console = Terminal.For(stdout);
        console.Write(grid);
        if (specPath == null) console.Write(new Text(spec));
    }

    private static void WriteJson(TextWriter stdout, CheckpointFile file, Res2NetArchitecture a, IReadOnlyList<string> caveats, string spec, string? specPath)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("checkpoint", file.SourcePath);
            w.WriteString("format", file.Format.Describe());
            w.WriteString("wrapper", file.Wrapper);
            w.WriteString("layout", file.Layout.Description);
            w.WriteNumber("tensors", file.StateDict.Count);
            w.WriteString("network", a.Description);
            w.WriteNumber("params", a.Params);
            w.WriteStartArray("caveats");
            foreach (string caveat in caveats) w.WriteStringValue(caveat);
            w.WriteEndArray();
            w.WritePropertyName("spec");
            using (var document = JsonDocument.Parse(spec)) document.RootElement.WriteTo(w);
            if (specPath != null) w.WriteString("spec_file", specPath);
            else w.WriteNull("spec_file");
            w.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
