using System.CommandLine;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Download;
using Res2Net.Runtime.IO;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary><c>res2net test</c>: mmpretrain's <c>tools/test.py</c>, top-1 and top-5 accuracy of a network on a labelled image set.</summary>
internal static class TestCommand
{
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
        var shard = new Option<string?>("--shard")
        {
            HelpName = "K/N",
            Description = "Evaluate only shard K of N (K from 0 to N-1): images K, K+N, K+2N, … of the listing, so that N machines share a dataset. " +
                          "Needs --out; the part files are combined with --merge.",
        };
        var merge = new Option<FileInfo[]>("--merge")
        {
            HelpName = "PART.json",
            Description = "Combine the results files of a sharded run (e.g. --merge part-*.json) and print the accuracy of the whole dataset, " +
                          "equal to an unsharded run's. Parts of different runs (model, checkpoint, dataset listing, --tta, N), a shard given twice " +
                          "and a missing shard are refused. Takes only --out and --force besides.",
            AllowMultipleArgumentsPerToken = true,
        };
        var force = OutputOptions.Force();
        // --model and --data are required, except by --merge, which reads everything from the parts.
        model.Required = false;
        data.Required = false;

        var command = new Command("test",
            "Evaluate a network on a labelled image set and print top-1 and top-5 accuracy as mmpretrain's tools/test.py does. " +
            "Images are decoded on another thread, ahead of the network; an image that cannot be read is reported and skipped.")
        {
            model, checkpoint, device, data, annFile, batchSize, tta, output, outDir, showWrong, shard, merge, force,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(merge) != null) return;
            foreach (var option in new Option[] { model, data })
            {
                if (result.GetResult(option) == null) result.AddError($"Option '{option.Name}' is required.");
            }
        });
        command.Description += Examples;
        command.SetAction(parse =>
        {
            if (parse.GetResult(merge) != null)
            {
                var parts = parse.GetValue(merge) ?? [];
                var given = new Option[] { model, checkpoint, device, data, annFile, batchSize, tta, outDir, showWrong, shard }.Where(o => parse.GetResult(o) is { Implicit: false });
                if (given.FirstOrDefault() is { } extra)
                    throw new CliException($"--merge combines parts written by earlier runs and takes only --out and --force; leave out {extra.Name}.");
                return Merge(stdout, parts, parse.GetValue(output), parse.GetValue(force));
            }
            var shardOf = parse.GetValue(shard) is { } shardText ? TestShards.Parse(shardText) : ((int Index, int Count)?)null;
            if (shardOf != null && parse.GetValue(output) == null)
                throw new CliException("--shard evaluates one part of the dataset; give --out part-K.json to keep it for 'res2net test --merge'.");
            int batch = CliLimits.Check("--batch-size", parse.GetValue(batchSize), 1, CliLimits.MaxBatch);

            var network = Res2NetModels.Create(parse.GetRequiredValue(model));
            var info = network.Info;
            var dataset = ImageDataset.Open(parse.GetRequiredValue(data).FullName, parse.GetValue(annFile)?.ToString());
            dataset.CheckLabels(info.NumClasses, info.Name);
            if (shardOf is var (shardIndex, shardCount)) dataset = dataset.Shard(shardIndex, shardCount);
            // Before the evaluation: the results file must not be the checkpoint, the annotation file or an image.
            string? outPath = parse.GetValue(output) is { } outFile
                ? OutputPath.Check(outFile.FullName, TestResultsFile.Kind, parse.GetValue(force),
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
            if (dataset.Samples.Count == 0)
            {
                throw new CliException(dataset.Sharding is { } empty
                    ? $"shard {empty} of {dataset.Root} holds no images: the listing has only {empty.ListingCount}; use fewer shards."
                    : $"{dataset.Root} holds no images.");
            }

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
            if (outPath != null)
            {
                TestResultsFile.Write(outPath, new TestResults(info.Name, loaded.SourcePath, CheckpointCache.Sha256Hex(loaded.SourcePath), dataset.Root,
                    dataset.Layout, dataset.AnnotationFile, dataset.Classes, dataset.ListingSha256, flip, dataset.Sharding, result));
            }
            pictures?.Write(result, stdout);
            if (result.Evaluated == 0) throw new CliException($"none of the {result.Total} images could be decoded.");
            return 0;
        });
        return command;
    }

    private const string Examples = """


        Examples:
          res2net test --model res2net50-w14-s8_3rdparty_8xb32_in1k --data imagenet/val --ann-file imagenet/meta/val.txt
          res2net test --model res2net50-w14-s8_3rdparty_8xb32_in1k --data imagenet/val --ann-file meta/val.txt --shard 0/4 --out part-0.json
          res2net test --merge part-*.json --out results.json
        """;

    /// <summary>
    /// <c>--merge</c>: reads the parts (each checked to be a results file), checks they are one run's shards, and prints
    /// the merged metrics as an unsharded run prints them; with <paramref name="output"/>, writes the merged results file,
    /// which is an unsharded run's but for the times (summed over the parts).
    /// </summary>
    private static int Merge(TextWriter stdout, FileInfo[] files, FileInfo? output, bool force)
    {
        string? outPath = output == null ? null : OutputPath.Check(output.FullName, TestResultsFile.Kind, force, files.Select(f => f.FullName));
        var parts = files.Select(f => (f.FullName, TestResultsFile.Read(f.FullName))).ToList();
        var merged = TestShards.Merge(parts);
        var result = merged.Result;
        stdout.WriteLine($"model: {DisplayText.Escape(merged.Model)}");
        // The hashes come from the files: escaped, and cut to the 16 digits that tell runs apart.
        stdout.WriteLine($"merged {parts.Count} part{(parts.Count == 1 ? "" : "s")} (checkpoint sha256 {DisplayText.Escape(merged.CheckpointSha256, 16)}, " +
                         $"listing sha256 {DisplayText.Escape(merged.ListingSha256, 16)})");
        string skippedNote = result.Skipped.Count == 0 ? "" : $", {result.Skipped.Count} skipped (unreadable; listed in the parts)";
        stdout.WriteLine($"{result.Evaluated} of {result.Total} images evaluated{skippedNote}; " +
                         $"{result.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s of evaluation in all");
        stdout.WriteLine(result.FormatMetrics());
        if (outPath != null) TestResultsFile.Write(outPath, merged);
        return 0;
    }

    private static TimeSpan Eta(EvaluationProgress p) =>
        p.Done == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (p.Total - p.Done) / p.Done);

    private static string Clock(TimeSpan t) => t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Reports progress synchronously, on the evaluating thread (<see cref="Progress{T}"/> would post it to the thread pool).</summary>
    private sealed class Reporter(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
