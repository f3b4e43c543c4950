using System.CommandLine;
using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Res2Net.Runtime.Visualization;
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
        var device = ModelOptions.Device();
        var topk = new Option<int>("--topk", "-k") { Description = "How many classes to show per input.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print pred_label, pred_score, pred_class and the top-k per input as JSON." };
        var saveLogits = new Option<FileInfo?>("--save-logits")
        {
            Description = "Also write all logits, [N, classes] float32, to this .npy file. An existing .npy file is replaced; any other file only with --force.",
            HelpName = "F.npy",
        };
        var features = new Option<DirectoryInfo?>("--features")
        {
            HelpName = "DIR",
            Description =
                "Also save feature maps (mmpretrain's extract_feat) into this folder (created if needed): one float32 .npy of shape [1, C, H, W] per input " +
                "and stage, named NAME.STAGE.npy, NAME being the input's file name without extension (NAME_i for image i of an .npy batch) and STAGE " +
                "stem, layer1, layer2, layer3 or layer4. Existing .npy files of those names are replaced; any other file only with --force.",
        };
        var outIndices = new Option<int[]>("--out-indices")
        {
            Description = "Which feature maps --features saves, like mmpretrain's out_indices: 0 = stem, 1-4 = layer1-layer4 (e.g. --out-indices 0 4). Default: 1 2 3 4.",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "INDEX",
        };

        var outDir = new Option<DirectoryInfo?>("--out-dir")
        {
            HelpName = "DIR",
            Description =
                "Also save each image with its top-k classes and scores drawn on it (mmpretrain's show_dir) into this folder (created if needed), " +
                "as NAME.png, NAME being the image's file name; text scales with the image, and images under 256 pixels a side are enlarged. " +
                "Existing PNG files of those names are replaced; any other file only with --force. Not for .npy inputs.",
        };

        var force = OutputOptions.Force();
        var command = new Command("predict", "Classify images (or preprocessed tensors) with a compiled network and print the top classes.")
        {
            inputs, model, checkpoint, device, topk, json, saveLogits, features, outIndices, outDir, force,
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

            var stderr = parse.InvocationConfiguration.Error;
            // Inputs and outputs are checked against the network's description before the network itself is built.
            var info = ExportCommand.FindModel(parse.GetRequiredValue(model));
            var inputFiles = parse.GetRequiredValue(inputs);
            bool replace = parse.GetValue(force);
            // Every output is checked before the work: none may be an input (the checkpoint included), a folder, or someone else's file.
            var read = new InputFiles([.. inputFiles.Select(f => f.FullName), .. CheckpointLocator.InputPaths(info, parse.GetValue(checkpoint))]);
            string? logitsPath = parse.GetValue(saveLogits) is { } logitsFile ? OutputPath.Check(logitsFile.FullName, OutputKind.Npy, replace, read) : null;
            var (items, stems) = ReadInputs(inputFiles, info, stderr);
            if (featureDir != null) CheckFeatureNames(stems, items);
            string[] stages = indices.Select(i => info.Features[i].Name).ToArray();
            using var featureFolder = featureDir == null ? null : OutputFolder.Prepare(featureDir, "--features",
                stages.SelectMany(stage => stems.Select(stem => (FeatureFile(stem, stage), OutputKind.Npy))), replace, read);
            if (featureFolder != null && logitsPath != null && stages.Any(stage => stems.Any(stem => OutputPath.SameFile(featureFolder.PathOf(FeatureFile(stem, stage)), logitsPath))))
                throw new CliException($"--save-logits {logitsPath} is also a file that --features writes; give it another name.");
            var pictureDir = parse.GetValue(outDir);
            if (pictureDir != null && inputFiles.FirstOrDefault(f => f.Extension.Equals(".npy", StringComparison.OrdinalIgnoreCase)) is { } tensorFile)
                throw new CliException($"--out-dir draws on images; {tensorFile.FullName} is a tensor. Leave it out of this run.");
            using var pictures = pictureDir == null ? null : PredictionPictures.Prepare(pictureDir, inputFiles.Select(f => f.Name), replace, read, logitsPath);
            var network = Res2NetModels.Create(info.Name);
            CheckpointLocator.Load(network, parse.GetValue(checkpoint), stderr);

            var classifier = new ImageClassifier(network, ClassNames.For(info));
            using var onDevice = DeviceChoice.Use(network, parse.GetRequiredValue(device), classifier.BatchSize, stderr);
            var names = items.Select(x => x.Name).ToList();
            var predictions = new List<Prediction>(items.Count);
            var logits = new float[items.Count * info.NumClasses];
            // One batch at a time, so that features of many inputs never pile up in memory.
            for (int start = 0; start < items.Count; start += classifier.BatchSize)
            {
                var chunk = items.GetRange(start, Math.Min(classifier.BatchSize, items.Count - start));
                var output = classifier.Run(chunk, k, featureDir == null ? null : indices);
                predictions.AddRange(output.Predictions);
                output.Logits.CopyTo(logits, start * info.NumClasses);
                foreach (var map in featureFolder == null ? [] : output.Features)
                {
                    for (int i = 0; i < output.Count; i++)
                    {
                        featureFolder!.Write(FeatureFile(stems[start + i], map.Name),
                            stream => Npy.Write(stream, map.ImageData(i).Span, new[] { 1, map.Shape[1], map.Shape[2], map.Shape[3] }));
                    }
                }
            }

            for (int i = 0; i < items.Count; i++)
            {
                if (NonFiniteValues.Describe(logits.AsSpan(i * info.NumClasses, info.NumClasses)) is { } bad)
                    stderr.WriteLine($"res2net: warning: {names[i]}: the logits hold {bad}, so its classes and scores mean nothing.");
            }

            // Every file complete on disk before any is renamed into place: a full disk leaves none of them half-written.
            using var logitsWriter = logitsPath == null ? null : AtomicFileWriter.Create(logitsPath);
            if (logitsWriter != null)
            {
                Npy.Write(logitsWriter.Stream, logits, new[] { items.Count, info.NumClasses });
                logitsWriter.Complete();
            }
            for (int i = 0; pictures != null && i < items.Count; i++)
                PredictionPictures.Write(pictures, inputFiles[i].Name, inputFiles[i].FullName, PredictionPainter.Lines(predictions[i].TopK));
            featureFolder?.Commit();
            logitsWriter?.Commit();
            pictures?.Commit();
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
    private static (List<InferenceInput> Inputs, List<string> Stems) ReadInputs(FileInfo[] files, NetworkInfo info, TextWriter stderr)
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
                var tensor = data.AsMemory(i * info.InputElements, info.InputElements);
                string name = single ? file.Name : $"{file.Name}[{i}]";
                if (NonFiniteValues.Describe(tensor.Span) is { } bad) stderr.WriteLine($"res2net: warning: {name}: the input holds {bad}.");
                inputs.Add(InferenceInput.FromTensor(tensor, name));
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
    /// A feature map's file in the --features folder: NAME.STAGE.npy. They are checked before the work and renamed into
    /// place only when every input has run (<see cref="OutputFolder"/>), so a failure leaves no half set behind.
    /// </summary>
    private static string FeatureFile(string stem, string stage) => $"{stem}.{stage}.npy";

    private static void WriteJson(TextWriter stdout, List<string> names, List<Prediction> predictions)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            for (int i = 0; i < names.Count; i++) PredictionJson.Write(w, predictions[i], names[i]);
            w.WriteEndArray();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteTable(TextWriter stdout, NetworkInfo info, List<string> names, List<Prediction> predictions)
    {
        var console = Terminal.For(stdout);
        for (int i = 0; i < names.Count; i++)
        {
            // The input's path heads its table on a line of its own (a table title would cut a long path, file name
            // first); escaped, since a file name may hold characters a terminal acts on.
            console.WriteLine(DisplayText.Escape(names[i]), Style.Plain);
            var table = new Table().Caption(Markup.Escape(info.Name))
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
