using System.CommandLine;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Export;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net export</c>: a network and its checkpoint as an ONNX model, for ONNX Runtime and other engines.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var model = ModelOptions.Model();
        var checkpoint = ModelOptions.Checkpoint();
        var seeded = new Option<bool>("--seeded")
        {
            Description = "Export the deterministic seeded weights (docs/seeded-weights.md) instead of a checkpoint, e.g. to compare engines.",
        };
        var output = new Option<FileInfo>("--out", "-o")
        {
            HelpName = "FILE.onnx",
            Description = "The .onnx file to write. An existing ONNX model is replaced; any other file only with --force.",
            Required = true,
        };
        var keepBatchNorm = new Option<bool>("--keep-batchnorm")
        {
            Description = "Keep BatchNorm as BatchNormalization nodes with the checkpoint's tensors instead of folding it into the convolutions.",
        };
        var batch = new Option<int?>("--batch")
        {
            Description = "Fix the batch size in the model's input and output shapes. Default: a symbolic 'batch' dimension.",
        };

        var force = OutputOptions.Force();
        var command = new Command("export", "Write a network and its weights as an ONNX model (opset 13): input 'input' [N, 3, H, W], output 'logits' [N, classes].")
        {
            model, checkpoint, seeded, output, keepBatchNorm, batch, force,
        };
        command.SetAction(parse =>
        {
            var info = FindModel(parse.GetRequiredValue(model));
            var file = parse.GetRequiredValue(output);
            var options = new OnnxExportOptions { FoldBatchNorm = !parse.GetValue(keepBatchNorm), BatchSize = parse.GetValue(batch) };
            if (options.BatchSize is < 1) throw new CliException($"--batch must be at least 1, got {options.BatchSize}.");

            string source;
            Func<Stream, OnnxExportSummary> export;
            var explicitCheckpoint = parse.GetValue(checkpoint);
            bool useSeeded = parse.GetValue(seeded);
            if (useSeeded && explicitCheckpoint != null) throw new CliException("give either --checkpoint FILE or --seeded, not both.");
            string[] inputs = useSeeded ? [] : CheckpointLocator.InputPaths(info, explicitCheckpoint);
            OutputPath.Check(file.FullName, OutputKind.Onnx, parse.GetValue(force), inputs);
            if (useSeeded)
            {
                var tensors = SeededWeights.StateDict(info);
                source = "seeded weights (docs/seeded-weights.md)";
                export = stream => OnnxExporter.Export(info, tensors, stream, options);
            }
            else
            {
                // The state-dict overload maps the official key layout and names the file if the checkpoint does not fit.
                var stateDict = CheckpointLocator.Read(info, explicitCheckpoint);
                source = stateDict.SourcePath;
                export = stream => OnnxExporter.Export(info, stateDict, stream, options);
            }

            // A failed export never leaves a truncated model behind, nor touches the file that was there.
            OnnxExportSummary summary;
            using (var writer = AtomicFileWriter.Create(file.FullName))
            {
                summary = export(writer.Stream);
                writer.Commit();
            }
            Report(stdout, info, file, source, summary, options);
            return 0;
        });
        return command;
    }

    /// <summary>The description of a compiled network by mmpretrain or class name, without instantiating it.</summary>
    internal static NetworkInfo FindModel(string name) =>
        Res2NetModels.All.FirstOrDefault(m => m.Name == name || m.ClassName == name) ?? Res2NetModels.Create(name).Info;

    private static void Report(TextWriter stdout, NetworkInfo info, FileInfo file, string source, OnnxExportSummary s, OnnxExportOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        string batch = options.BatchSize?.ToString(c) ?? options.BatchDimension;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("wrote", Markup.Escape(file.FullName));
        grid.AddRow("model", Markup.Escape(info.Name));
        grid.AddRow("weights", Markup.Escape(source));
        grid.AddRow("size", $"{(s.Bytes / 1048576.0).ToString("0.0", c)} MiB ({s.Bytes.ToString("N0", c)} bytes)");
        grid.AddRow("format", $"ONNX IR {OnnxExporter.IrVersion}, opset {OnnxExporter.OpsetVersion}");
        grid.AddRow("graph", $"{s.Nodes} nodes: " + Markup.Escape(string.Join(", ", s.OperatorCounts.Select(kv => $"{kv.Key} {kv.Value}"))));
        grid.AddRow("batch norm", s.BatchNormFolded ? "folded into the convolutions" : "BatchNormalization nodes");
        grid.AddRow("input", $"{OnnxExporter.InputName} [[{batch}, 3, {info.InputHeight}, {info.InputWidth}]] float32, normalized");
        grid.AddRow("output", $"{OnnxExporter.OutputName} [[{batch}, {info.NumClasses}]]");
        grid.AddRow("weights stored", s.InitializerFloats.ToString("N0", c) + " floats");
        Terminal.For(stdout).Write(grid);
    }
}
