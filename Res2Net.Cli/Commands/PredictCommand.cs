using System.CommandLine;
using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net predict</c>: mmpretrain's <c>inference_model</c> on the command line.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
    {
        var inputs = new Argument<FileInfo[]>("INPUT")
        {
            Description = "Inputs to classify: .npy float32 tensors of shape [N, 3, H, W] or [3, H, W], already normalized.",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOption.Create();
        var checkpoint = new Option<FileInfo?>("--checkpoint", "-c")
        {
            Description = "Checkpoint file (mmpretrain .pth, or a bare state dict). Default: the cached download of the model's official checkpoint.",
        };
        var topk = new Option<int>("--topk", "-k") { Description = "How many classes to show per input.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print pred_label, pred_score, pred_class and the top-k per input as JSON." };
        var saveLogits = new Option<FileInfo?>("--save-logits") { Description = "Also write all logits, [N, classes] float32, to this .npy file." };

        var command = new Command("predict", "Classify inputs with a compiled network and print the top classes.")
        {
            inputs, model, checkpoint, topk, json, saveLogits,
        };
        command.SetAction(parse =>
        {
            int k = parse.GetValue(topk);
            if (k < 1) throw new CliException($"--topk must be at least 1, got {k}.");
            var network = Res2NetModels.Create(parse.GetRequiredValue(model));
            var info = network.Info;
            var (batch, names) = LoadInputs(parse.GetRequiredValue(inputs), info);
            network.Load(CheckpointLocator.Resolve(info, parse.GetValue(checkpoint)));

            var logits = network.Forward(batch, names.Count);
            var classes = ClassNames.For(info);
            var predictions = Enumerable.Range(0, names.Count)
                .Select(i => Prediction.FromLogits(logits.AsSpan(i * info.NumClasses, info.NumClasses), classes, k))
                .ToList();

            if (parse.GetValue(saveLogits) is { } output) Npy.Write(output.FullName, logits, new[] { names.Count, info.NumClasses });
            if (parse.GetValue(json)) WriteJson(stdout, names, predictions);
            else WriteTable(stdout, info, names, predictions);
            return 0;
        });
        return command;
    }

    /// <summary>Reads every input into one batch, checking each against the network's input shape.</summary>
    private static (float[] Batch, List<string> Names) LoadInputs(FileInfo[] files, NetworkInfo info)
    {
        var batch = new List<float>();
        var names = new List<string>();
        foreach (var file in files)
        {
            if (!file.Exists) throw new CliException($"input {file.FullName} does not exist.");
            if (!file.Extension.Equals(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"{file.Name}: only .npy tensors ([N, 3, H, W] float32, normalized) are accepted as INPUT.");
            }
            var (data, shape) = Npy.Read(file.FullName);
            int[] expected = { 3, info.InputHeight, info.InputWidth };
            int n;
            if (shape.Length == 3 && shape.SequenceEqual(expected)) n = 1;
            else if (shape.Length == 4 && shape.AsSpan(1).SequenceEqual(expected) && shape[0] >= 1) n = shape[0];
            else
            {
                throw new CliException(
                    $"{file.Name}: shape [{string.Join(", ", shape)}] does not fit {info.Name}; expected [N, 3, {info.InputHeight}, {info.InputWidth}] or [3, {info.InputHeight}, {info.InputWidth}].");
            }
            batch.AddRange(data);
            for (int i = 0; i < n; i++) names.Add(n == 1 && shape.Length == 3 ? file.Name : $"{file.Name}[{i}]");
        }
        return (batch.ToArray(), names);
    }

    private static void WriteJson(TextWriter stdout, List<string> names, List<Prediction> predictions)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            for (int i = 0; i < names.Count; i++)
            {
                var p = predictions[i];
                w.WriteStartObject();
                w.WriteString("input", names[i]);
                w.WriteNumber("pred_label", p.PredLabel);
                w.WriteNumber("pred_score", p.PredScore);
                w.WriteString("pred_class", p.PredClass);
                w.WriteStartArray("topk");
                foreach (var c in p.TopK)
                {
                    w.WriteStartObject();
                    w.WriteNumber("label", c.Label);
                    w.WriteNumber("score", c.Score);
                    w.WriteString("class", c.ClassName);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteTable(TextWriter stdout, NetworkInfo info, List<string> names, List<Prediction> predictions)
    {
        var console = Terminal.For(stdout);
        for (int i = 0; i < names.Count; i++)
        {
            var table = new Table().Title($"{Markup.Escape(names[i])} — {Markup.Escape(info.Name)}")
                .AddColumn("rank").AddColumn(new TableColumn("label").RightAligned()).AddColumn(new TableColumn("score").RightAligned()).AddColumn("class");
            int rank = 1;
            foreach (var c in predictions[i].TopK)
            {
                table.AddRow(rank++.ToString(), c.Label.ToString(), c.Score.ToString("0.0000"), Markup.Escape(c.ClassName));
            }
            console.Write(table);
        }
    }
}
