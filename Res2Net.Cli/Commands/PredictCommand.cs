using System.CommandLine;
using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net predict</c>: mmpretrain's <c>inference_model</c> (and <c>extract_feat</c>) on the command line.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
    {
        var inputs = new Argument<FileInfo[]>("INPUT")
        {
            Description =
                "Images to classify (JPEG, PNG, BMP, WebP, PPM, PGM; decoded and preprocessed as mmpretrain's test pipeline does: resize the short edge, " +
                "center crop, normalize), or .npy float32 tensors already preprocessed, of shape [N, 3, H, W] or [3, H, W].",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOptions.Model();
        var checkpoint = ModelOptions.Checkpoint();
        var topk = new Option<int>("--topk", "-k") { Description = "How many classes to show per input.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print pred_label, pred_score, pred_class and the top-k per input as JSON." };
        var saveLogits = new Option<FileInfo?>("--save-logits") { Description = "Also write all logits, [N, classes] float32, to this .npy file.", HelpName = "F.npy" };
        var features = new Option<DirectoryInfo?>("--features")
        {
            HelpName = "DIR",
            Description =
                "Also save feature maps (mmpretrain's extract_feat) into this folder (created if needed): one float32 .npy of shape [1, C, H, W] per input " +
                "and stage, named NAME.STAGE.npy, NAME being the input's file name without extension (NAME_i for image i of an .npy batch) and STAGE " +
                "stem, layer1, layer2, layer3 or layer4.",
        };
        var outIndices = new Option<int[]>("--out-indices")
        {
            Description = "Which feature maps --features saves, like mmpretrain's out_indices: 0 = stem, 1-4 = layer1-layer4 (e.g. --out-indices 0 4). Default: 1 2 3 4.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "INDEX",
        };

        var command = new Command("predict", "Classify images (or preprocessed tensors) with a compiled network and print the top classes.")
        {
            inputs, model, checkpoint, topk, json, saveLogits, features, outIndices,
        };
        command.SetAction(parse =>
        {
            int k = parse.GetValue(topk);
            if (k < 1) throw new CliException($"--topk must be at least 1, got {k}.");
            var featureDir = parse.GetValue(features);
            bool indicesGiven = parse.GetResult(outIndices) != null;
            int[] indices = indicesGiven ? parse.GetValue(outIndices) ?? [] : [1, 2, 3, 4];
            if (indicesGiven && featureDir == null)
                throw new CliException("--out-indices chooses what --features saves; give --features DIR too.");
            if (indices.Length == 0 || indices.Any(i => i is < 0 or > 4) || indices.Distinct().Count() != indices.Length)
                throw new CliException($"--out-indices takes distinct values from 0 (stem) to 4 (layer4), got {string.Join(" ", indices)}.");

            if (featureDir != null && File.Exists(featureDir.FullName))
                throw new CliException($"--features {featureDir.FullName} is a file; give a folder (it is created if needed).");
            if (parse.GetValue(saveLogits)?.Directory is { Exists: false } logitsDir)
                throw new CliException($"cannot write --save-logits: directory {logitsDir.FullName} does not exist.");

            var network = Res2NetModels.Create(parse.GetRequiredValue(model));
            var info = network.Info;
            var (items, stems) = ReadInputs(parse.GetRequiredValue(inputs), info);
            if (featureDir != null) CheckFeatureNames(stems, items);
            CheckpointLocator.Load(network, parse.GetValue(checkpoint), parse.InvocationConfiguration.Error);

            var classifier = new ImageClassifier(network, ClassNames.For(info));
            var featureWriter = featureDir == null ? null : new FeatureWriter(featureDir, stems);
            var names = items.Select(x => x.Name).ToList();
            var predictions = new List<Prediction>(items.Count);
            var logits = new float[items.Count * info.NumClasses];
            try
            {
                // One batch at a time, so that features of many inputs never pile up in memory.
                for (int start = 0; start < items.Count; start += classifier.BatchSize)
                {
                    var chunk = items.GetRange(start, Math.Min(classifier.BatchSize, items.Count - start));
                    var output = classifier.Run(chunk, k, featureDir == null ? null : indices);
                    predictions.AddRange(output.Predictions);
                    output.Logits.CopyTo(logits, start * info.NumClasses);
                    featureWriter?.Write(start, output);
                }
                featureWriter?.Commit();
            }
            finally
            {
                featureWriter?.Abandon();
            }

            if (parse.GetValue(saveLogits) is { } logitsFile) Npy.Write(logitsFile.FullName, logits, new[] { items.Count, info.NumClasses });
            if (parse.GetValue(json)) WriteJson(stdout, names, predictions);
            else WriteTable(stdout, info, names, predictions);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Turns the arguments into inputs: each .npy is read now and checked against the network's input shape; images are
    /// decoded later, batch by batch. Also returns the name each input's feature files get.
    /// </summary>
    private static (List<InferenceInput> Inputs, List<string> Stems) ReadInputs(FileInfo[] files, NetworkInfo info)
    {
        var inputs = new List<InferenceInput>();
        var stems = new List<string>();
        foreach (var file in files)
        {
            if (Directory.Exists(file.FullName)) throw new CliException($"input {file.FullName} is a folder; give image files (for a labelled dataset, use 'res2net test').");
            if (!file.Exists) throw new CliException($"input {file.FullName} does not exist.");
            string stem = Path.GetFileNameWithoutExtension(file.Name);
            if (!file.Extension.Equals(".npy", StringComparison.OrdinalIgnoreCase))
            {
                inputs.Add(InferenceInput.FromFile(file.ToString()));
                stems.Add(stem);
                continue;
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
            for (int i = 0; i < n; i++)
            {
                bool single = n == 1 && shape.Length == 3;
                inputs.Add(InferenceInput.FromTensor(data.AsMemory(i * info.InputElements, info.InputElements), single ? file.Name : $"{file.Name}[{i}]"));
                stems.Add(single ? stem : $"{stem}_{i}");
            }
        }
        return (inputs, stems);
    }

    private static void CheckFeatureNames(List<string> stems, List<InferenceInput> inputs)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < stems.Count; i++)
        {
            if (seen.TryGetValue(stems[i], out int first))
            {
                throw new CliException(
                    $"{inputs[first].Name} and {inputs[i].Name} would both save their features as {stems[i]}.*.npy; rename one, or run them separately.");
            }
            seen.Add(stems[i], i);
        }
    }

    /// <summary>
    /// Saves feature maps as NAME.STAGE.npy. Files are written as .partial beside their final names and renamed only when
    /// every input has run, so a failure (an image that does not decode, say) leaves no half set behind.
    /// </summary>
    private sealed class FeatureWriter(DirectoryInfo directory, List<string> stems)
    {
        private readonly List<(string Partial, string Final)> _files = new();

        public void Write(int start, ClassifierOutput output)
        {
            Directory.CreateDirectory(directory.FullName);
            foreach (var map in output.Features)
            {
                for (int i = 0; i < output.Count; i++)
                {
                    string final = Path.Combine(directory.FullName, $"{stems[start + i]}.{map.Name}.npy");
                    string partial = final + ".partial";
                    _files.Add((partial, final));
                    Npy.Write(partial, map.ImageData(i).Span, new[] { 1, map.Shape[1], map.Shape[2], map.Shape[3] });
                }
            }
        }

        public void Commit()
        {
            foreach (var (partial, final) in _files) File.Move(partial, final, overwrite: true);
            _files.Clear();
        }

        public void Abandon()
        {
            foreach (var (partial, _) in _files)
            {
                if (File.Exists(partial)) File.Delete(partial);
            }
            _files.Clear();
        }
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
            var table = new Table().Title(Markup.Escape(names[i])).Caption(Markup.Escape(info.Name))
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
