using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Res2Net.Models;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.IO;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net test</c>: mmpretrain's <c>tools/test.py</c>, top-1 and top-5 accuracy of a network on a labelled image set.</summary>
internal static class TestCommand
{
    /// <summary>What <see cref="WriteJson"/> writes: a JSON object whose first properties are "model" and "checkpoint".</summary>
    internal static readonly OutputKind ResultsFile = new("a results file of 'res2net test' (JSON starting with \"model\" and \"checkpoint\")", IsResultsFile);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOptions.Model();
        var checkpoint = ModelOptions.Checkpoint();
        var device = ModelOptions.Device();
        var data = new Option<DirectoryInfo>("--data", "-d")
        {
            HelpName = "DIR",
            Description =
                "The image folder. Without --ann-file it is read as torchvision's ImageFolder: one sub-folder per class, labelled by the folder " +
                $"names' sorted order (by code point, as Python sorts), images anywhere below them ({string.Join(" ", Res2Net.Runtime.Imaging.ImageFormats.Extensions)}; TIFF files are left out and counted).",
            Required = true,
        };
        var annFile = new Option<FileInfo?>("--ann-file", "-a")
        {
            HelpName = "FILE",
            Description =
                "mmpretrain's ImageNet layout: a text file of 'relative/path label' lines (e.g. meta/val.txt), paths relative to --data. " +
                "A relative path not found from the working directory is looked up under --data.",
        };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = $"Images per forward, 1 to {CliLimits.MaxBatch}.", DefaultValueFactory = _ => 32, HelpName = "N" };
        var output = new Option<FileInfo?>("--out", "-o")
        {
            HelpName = "results.json",
            Description = "Also write the metrics, the skipped images and every image's top-5 labels and scores to this JSON file. " +
                          "An existing results file is replaced; any other file only with --force.",
        };
        var tta = new Option<bool>("--tta")
        {
            Description = "Flip test-time augmentation as mmpretrain's --tta: classify each image's crop and its left-right mirror " +
                          "(one batch, one decode) and average their softmax scores.",
        };
        var outDir = new Option<DirectoryInfo?>("--out-dir")
        {
            HelpName = "DIR",
            Description = "Also save each image with its ground truth and top-5 classes and scores drawn on it (mmpretrain's show_dir) into this folder " +
                          "(created if needed), as PATH.png, PATH being the image's path below --data. Existing PNG files of those names are replaced; " +
                          "any other file only with --force.",
        };
        var showWrong = new Option<bool>("--show-wrong") { Description = "With --out-dir: save only the images whose top-1 class is wrong." };
        var force = OutputOptions.Force();

        var command = new Command("test",
            "Evaluate a network on a labelled image set and print top-1 and top-5 accuracy as mmpretrain's tools/test.py does. " +
            "Images are decoded on another thread, ahead of the network; an image that cannot be read is reported and skipped.")
        {
            model, checkpoint, device, data, annFile, batchSize, tta, output, outDir, showWrong, force,
        };
        command.SetAction(parse =>
        {
            int batch = CliLimits.Check("--batch-size", parse.GetValue(batchSize), 1, CliLimits.MaxBatch);

            var network = Res2NetModels.Create(parse.GetRequiredValue(model));
            var info = network.Info;
            var dataset = ImageDataset.Open(parse.GetRequiredValue(data).FullName, parse.GetValue(annFile)?.ToString());
            dataset.CheckLabels(info.NumClasses, info.Name);
            // Before the evaluation: the results file must not be the checkpoint, the annotation file or an image.
            string? outPath = parse.GetValue(output) is { } outFile
                ? OutputPath.Check(outFile.FullName, ResultsFile, parse.GetValue(force),
                    CheckpointLocator.InputPaths(info, parse.GetValue(checkpoint))
                        .Concat(dataset.AnnotationFile is { } ann ? [ann] : [])
                        .Concat(dataset.Samples.Select(sample => sample.Path)))
                : null;
            using var pictures = TestPictures.Prepare(parse.GetValue(outDir), parse.GetValue(showWrong), dataset, info, parse.GetValue(force),
                CheckpointLocator.InputPaths(info, parse.GetValue(checkpoint)), outPath);
            var loaded = CheckpointLocator.Load(network, parse.GetValue(checkpoint), stderr);

            var console = Terminal.For(stdout);
            console.MarkupLine($"model: [bold]{Markup.Escape(info.Name)}[/]");
            console.MarkupLine($"data: {Markup.Escape(dataset.ToString())}");
            if (dataset.Samples.Count == 0) throw new CliException($"{dataset.Root} holds no images.");

            bool flip = parse.GetValue(tta);
            if (flip) console.MarkupLine("tta: flip (mean of the softmax scores of each crop and its mirror)");
            var evaluator = new DatasetEvaluator(network) { BatchSize = batch, FlipTta = flip };
            // A flip-TTA forward runs each crop and its mirror together: twice the images.
            using var onDevice = DeviceChoice.Use(network, parse.GetRequiredValue(device), flip ? 2 * batch : batch, stderr);
            EvaluationResult result;
            if (console.Profile.Capabilities.Interactive)
            {
                // A live bar with elapsed time and ETA on a terminal.
                result = console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                        new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(context =>
                    {
                        var task = context.AddTask("test", maxValue: dataset.Samples.Count);
                        return evaluator.Evaluate(dataset, new Reporter(p =>
                        {
                            task.Value = p.Done;
                            task.Description = $"test {p.Done}/{p.Total}" + (p.Skipped > 0 ? $", {p.Skipped} skipped" : "");
                        }));
                    });
            }
            else
            {
                // Redirected to a file or a pipe: a log line at every tenth of the way, as mmpretrain logs every N iterations.
                int lastTenth = 0;
                result = evaluator.Evaluate(dataset, new Reporter(p =>
                {
                    int tenth = p.Total == 0 ? 10 : (int)(10L * p.Done / p.Total);
                    if (tenth <= lastTenth) return;
                    lastTenth = tenth;
                    stdout.WriteLine(FormattableString.Invariant($"test [{p.Done}/{p.Total}] {100.0 * p.Done / p.Total,3:0}%  {p.Skipped} skipped  elapsed {Clock(p.Elapsed)}  eta {Clock(Eta(p))}"));
                }));
            }

            // The names come from the annotation file: escaped, so that one holding ESC cannot drive the terminal.
            foreach (var s in result!.Skipped) stderr.WriteLine($"res2net: warning: skipped {DisplayText.Escape(s.Path)}: {DisplayText.Escape(s.Reason)}");
            int nonFinite = result.Samples.Count(s => !s.Scores.All(float.IsFinite));
            if (nonFinite > 0)
            {
                stderr.WriteLine($"res2net: warning: {nonFinite} of {result.Evaluated} images got NaN or infinite scores (the network's logits are not finite), " +
                                 "so their predictions mean nothing.");
            }
            string skippedNote = result.Skipped.Count == 0 ? "" : $", {result.Skipped.Count} skipped (unreadable, see the warnings)";
            stdout.WriteLine(
                $"{result.Evaluated} of {result.Total} images evaluated{skippedNote}; " +
                $"{result.ImagesPerSecond.ToString("0.0", CultureInfo.InvariantCulture)} images/s ({result.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s)");
            stdout.WriteLine(result.FormatMetrics());
            if (outPath != null) WriteJson(outPath, info.Name, loaded.SourcePath, dataset, result, flip);
            pictures?.Write(result, stdout);
            if (result.Evaluated == 0) throw new CliException($"none of the {result.Total} images could be decoded.");
            return 0;
        });
        return command;
    }

    private static TimeSpan Eta(EvaluationProgress p) =>
        p.Done == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (p.Total - p.Done) / p.Done);

    private static string Clock(TimeSpan t) => t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Reports progress synchronously, on the evaluating thread (<see cref="Progress{T}"/> would post it to the thread pool).</summary>
    private sealed class Reporter(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }

    private static bool IsResultsFile(byte[] head, long length)
    {
        try
        {
            var json = new Utf8JsonReader(head, isFinalBlock: head.Length == length, state: default);
            return json.Read() && json.TokenType == JsonTokenType.StartObject
                && json.Read() && json.ValueTextEquals("model") && json.Read() && json.TokenType == JsonTokenType.String
                && json.Read() && json.ValueTextEquals("checkpoint");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteJson(string path, string model, string checkpoint, ImageDataset dataset, EvaluationResult result, bool flipTta)
    {
        using var file = AtomicFileWriter.Create(path);
        using (var w = new Utf8JsonWriter(file.Stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("checkpoint", checkpoint);
            w.WriteString("data", dataset.Root);
            w.WriteString("layout", dataset.Layout == DatasetLayout.ImageFolder ? "ImageFolder" : "annotation file");
            w.WriteString("tta", flipTta ? "flip" : "none");
            if (dataset.AnnotationFile != null) w.WriteString("ann_file", dataset.AnnotationFile);
            if (dataset.Classes != null)
            {
                w.WriteStartArray("classes");
                foreach (var c in dataset.Classes) w.WriteStringValue(c);
                w.WriteEndArray();
            }
            w.WriteStartObject("metrics");
            w.WriteFloat("accuracy/top1", Math.Round(result.Top1, 4));
            w.WriteFloat("accuracy/top5", Math.Round(result.Top5, 4));
            w.WriteEndObject();
            w.WriteNumber("total", result.Total);
            w.WriteNumber("evaluated", result.Evaluated);
            w.WriteNumber("top1_correct", result.Top1Correct);
            w.WriteNumber("top5_correct", result.Top5Correct);
            w.WriteFloat("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteFloat("images_per_second", Math.Round(result.ImagesPerSecond, 1));
            w.WriteStartArray("skipped");
            foreach (var s in result.Skipped)
            {
                w.WriteStartObject();
                w.WriteString("file", s.RelativePath);
                w.WriteString("reason", s.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("samples");
            foreach (var s in result.Samples)
            {
                w.WriteStartObject();
                w.WriteString("file", s.RelativePath);
                w.WriteNumber("gt_label", s.Label);
                w.WriteNumber("pred_label", s.PredLabel);
                w.WriteFloat("pred_score", s.Scores[0]);
                w.WriteStartArray("topk");
                foreach (int label in s.TopK) w.WriteNumberValue(label);
                w.WriteEndArray();
                w.WriteStartArray("scores");
                foreach (float score in s.Scores) w.WriteFloatValue(score);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        file.Commit();
    }
}
