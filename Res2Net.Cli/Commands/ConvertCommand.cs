using System.CommandLine;
using System.Globalization;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>res2net convert IN OUT.safetensors</c>: any checkpoint we read (PyTorch zip, legacy, safetensors; any wrapper
/// and key layout) rewritten as safetensors, which holds nothing but data. Tensors stream one at a time.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(TextWriter stdout)
    {
        var input = new Argument<FileInfo>("IN")
        {
            Description = "The checkpoint to convert (.pth in torch's zip or legacy format, or .safetensors): a file, or an http(s) URL fetched once into the cache.",
        };
        var output = new Argument<FileInfo>("OUT")
        {
            Description = "The .safetensors file to write. An existing safetensors file is replaced; any other file only with --force.",
        };
        var mmpretrain = new Option<bool>("--mmpretrain-keys")
        {
            Description = "Rename the keys to mmpretrain's layout (backbone., head.fc., deep stem as stem.N) instead of keeping them as in IN.",
        };
        var force = OutputOptions.Force();
        var command = new Command("convert", "Rewrite a checkpoint as safetensors: same tensors, same dtypes (float64 as float32), no pickle.")
        {
            input, output, mmpretrain, force,
        };
        command.SetAction(parse =>
        {
            var source = parse.GetRequiredValue(input);
            var target = parse.GetRequiredValue(output);
            string inputPath = CheckpointLocator.InputPath(source);   // a URL that cannot be fetched fails here, before any download
            if (!target.Extension.Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new CliException($"OUT must be a .safetensors file, got {target.Name}.");
            OutputPath.Check(target.FullName, OutputKind.Safetensors, parse.GetValue(force), [inputPath]);
            string sourcePath = CheckpointLocator.ResolveFile(source, parse.InvocationConfiguration.Error);

            using var file = CheckpointFile.Open(sourcePath);
            bool rename = parse.GetValue(mmpretrain);
            IEnumerable<CheckpointTensor> tensors = file.StateDict.Tensors;
            if (rename)
            {
                var mapped = KeyLayout.ToMmpretrain(file.StateDict, file.Layout, file.SourcePath);
                tensors = mapped.Select(kv => kv.Value.WithName(kv.Key)).ToList();
            }
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["source"] = Path.GetFileName(sourcePath),
                ["source_format"] = file.Format.Describe(),
                ["layout"] = rename ? KeyLayout.Mmpretrain : file.Layout.Description,
            };
            foreach (var (key, value) in file.Metadata) metadata.TryAdd(key, value);
            long bytes = SafetensorsWriter.Write(target.FullName, tensors, metadata);
            Report(stdout, file, target, bytes, rename);
            return 0;
        });
        return command;
    }

    private static void Report(TextWriter stdout, CheckpointFile file, FileInfo target, long bytes, bool renamed)
    {
        var c = CultureInfo.InvariantCulture;
        var dtypes = file.StateDict.Tensors.GroupBy(t => SafetensorsWriter.DefaultStoredDType(t.SourceDType))
            .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("read", Markup.Escape(file.SourcePath));
        grid.AddRow("format", Markup.Escape(file.Format.Describe()));
        grid.AddRow("wrapper", Markup.Escape(file.Wrapper));
        grid.AddRow("layout", Markup.Escape(file.Layout.Description));
        grid.AddRow("tensors", $"{file.StateDict.Count.ToString(c)} ({Markup.Escape(string.Join(", ", dtypes))})");
        grid.AddRow("wrote", Markup.Escape(target.FullName));
        grid.AddRow("size", $"{(bytes / 1048576.0).ToString("0.0", c)} MiB ({bytes.ToString("N0", c)} bytes)");
        grid.AddRow("keys", renamed ? "renamed to mmpretrain's layout" : "kept as in the input");
        Terminal.For(stdout).Write(grid);
    }
}
