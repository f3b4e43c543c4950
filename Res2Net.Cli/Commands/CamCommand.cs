using System.CommandLine;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Visualization;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>res2net cam</c>: class activation maps (Zhou et al. 2016), as mmpretrain's <c>tools/visualization/vis_cam.py</c>
/// shows them, without a backward pass: Res2Net ends in global average pooling and one Linear layer, so
/// <c>Σ_k w[c, k] · layer4[k]</c> is the map exactly (<see cref="ImageClassifier.ClassActivationMaps"/>).
/// </summary>
internal static class CamCommand
{
    public static Command Create(TextWriter stdout)
    {
        var inputs = new Argument<FileInfo[]>("IMAGE")
        {
            Description = "Images (JPEG, PNG, BMP, WebP, PPM, PGM), preprocessed as 'predict' does: the map covers the center crop the network sees.",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOptions.Model();
        var checkpoint = ModelOptions.Checkpoint();
        var classes = new Option<string[]>("--class")
        {
            HelpName = "C",
            Description = "The class to map, by index (0-999 for ImageNet) or name ('goldfish'; a comma-separated synonym of the name works too); " +
                          "repeat it for several. Default: each image's predicted class.",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<DirectoryInfo>("--out", "-o")
        {
            HelpName = "DIR",
            Description =
                "Folder for the results (created if needed), per image and class: NAME.cam.png, the map over the crop (clipped at 0, scaled to 0-1, " +
                "upsampled bilinearly, viridis colours, half and half with the crop), and NAME.cam.npy, the raw map, float32 [H, W] at layer4's " +
                "resolution. NAME is the image's file name without extension; with --class the files are NAME.cam.LABEL.png and NAME.cam.LABEL.npy. " +
                "Existing PNG and .npy files of those names are replaced; any other file only with --force.",
            DefaultValueFactory = _ => new DirectoryInfo("cam"),
        };
        var force = OutputOptions.Force();
        var command = new Command("cam", "Draw class activation maps: where in the image the evidence for a class lies (layer4 weighted by the classifier).")
        {
            inputs, model, checkpoint, classes, output, force,
        };
        command.SetAction(parse =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var info = ExportCommand.FindModel(parse.GetRequiredValue(model));
            var names = ClassNames.For(info);
            int[] labels = (parse.GetValue(classes) ?? []).Select(c => ClassSelector.Resolve(c, names)).Distinct().ToArray();
            var files = parse.GetRequiredValue(inputs);
            foreach (var file in files)
            {
                if (Directory.Exists(file.FullName)) throw new CliException($"input {file.FullName} is a folder; give image files.");
                if (!file.Exists) throw new CliException($"input {file.FullName} does not exist.");
            }
            var stems = files.Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToArray();
            string Name(int image, int? label, string extension) =>
                label is { } l ? $"{stems[image]}.cam.{l.ToString(CultureInfo.InvariantCulture)}.{extension}" : $"{stems[image]}.cam.{extension}";
            int?[] perImage = labels.Length > 0 ? labels.Select(l => (int?)l).ToArray() : [null];
            var planned = Enumerable.Range(0, files.Length)
                .SelectMany(i => perImage.SelectMany(l => new[] { (Name(i, l, "png"), OutputKind.Png), (Name(i, l, "npy"), OutputKind.Npy) }));
            var read = new InputFiles([.. files.Select(f => f.FullName), .. CheckpointLocator.InputPaths(info, parse.GetValue(checkpoint))]);
            using var folder = OutputFolder.Prepare(parse.GetValue(output)!, "--out", planned, parse.GetValue(force), read);

            var network = Res2NetModels.Create(info.Name);
            CheckpointLocator.Load(network, parse.GetValue(checkpoint), stderr);
            var classifier = new ImageClassifier(network, names);
            var lines = new List<string>();
            for (int start = 0; start < files.Length; start += classifier.BatchSize)
            {
                int count = Math.Min(classifier.BatchSize, files.Length - start);
                // Preprocessed once: the tensor goes through the network and, turned back into pixels, under the map.
                var tensors = Enumerable.Range(start, count).Select(i => classifier.Preprocess(files[i].ToString())).ToArray();
                var maps = classifier.ClassActivationMaps(
                    tensors.Select((t, i) => InferenceInput.FromTensor(t, files[start + i].ToString())).ToArray(), labels);
                for (int m = 0; m < maps.Count; m++)
                {
                    int image = start + m / perImage.Length;
                    var map = maps[m];
                    var crop = NetworkCrop.FromTensor(tensors[image - start], classifier.Preprocessing);
                    int? label = labels.Length > 0 ? map.Label : null;
                    folder.Write(Name(image, label, "png"), stream => PngEncoder.Write(stream, CamOverlay.Render(crop, map)));
                    folder.Write(Name(image, label, "npy"), stream => Npy.Write(stream, map.Data, map.Shape));
                    float score = map.Prediction.PredScores[map.Label];
                    lines.Add($"{DisplayText.Escape(folder.PathOf(Name(image, label, "png")))}: class {map.Label} ({DisplayText.Escape(map.ClassName)}), " +
                              $"score {score.ToString("0.0000", CultureInfo.InvariantCulture)}" +
                              (map.Label == map.Prediction.PredLabel ? " (predicted)" : $"; predicted {map.Prediction.PredLabel} ({DisplayText.Escape(map.Prediction.PredClass)})"));
                }
            }
            folder.Commit();
            foreach (string line in lines) stdout.WriteLine(line);
            return 0;
        });
        return command;
    }
}
