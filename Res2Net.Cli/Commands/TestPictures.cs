using Res2Net.Models;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Res2Net.Runtime.Visualization;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>test --out-dir DIR [--show-wrong]</c>: after the evaluation, every image (or only those whose top-1 class is
/// wrong) with its ground truth and top-5 drawn on it (<see cref="PredictionPictures"/>), once per image. Class names are the
/// dataset's (ImageFolder's folder names) when it has one per class of the network, else the network's.
/// </summary>
internal sealed class TestPictures : IDisposable
{
    private readonly OutputFolder _folder;
    private readonly bool _wrongOnly;
    private readonly ImageDataset _dataset;
    private readonly IReadOnlyList<string> _classNames;

    private TestPictures(OutputFolder folder, bool wrongOnly, ImageDataset dataset, IReadOnlyList<string> classNames)
    {
        _folder = folder;
        _wrongOnly = wrongOnly;
        _dataset = dataset;
        _classNames = classNames;
    }

    /// <summary>
    /// Checks the folder and a picture file for every image before the evaluation (which images are wrong is not known
    /// yet); null without <paramref name="folder"/>.
    /// </summary>
    public static TestPictures? Prepare(DirectoryInfo? folder, bool wrongOnly, ImageDataset dataset, NetworkInfo info, bool force,
        IEnumerable<string> checkpointPaths, string? resultsPath)
    {
        if (folder == null)
        {
            if (wrongOnly) throw new CliException("--show-wrong chooses which pictures --out-dir saves; give --out-dir DIR too.");
            return null;
        }
        var inputs = new InputFiles(checkpointPaths
            .Concat(dataset.AnnotationFile is { } ann ? [ann] : [])
            .Concat(dataset.Samples.Select(sample => sample.Path)));
        // An annotation file may list an image more than once: it gets one picture.
        var output = PredictionPictures.Prepare(folder, dataset.Samples.Select(s => s.RelativePath).Distinct(StringComparer.Ordinal), force, inputs, resultsPath);
        var names = dataset.Classes is { } classes && classes.Count == info.NumClasses ? classes : ClassNames.For(info);
        return new TestPictures(output, wrongOnly, dataset, names);
    }

    /// <summary>
    /// Draws and writes the pictures, renames them into place, and says how many on <paramref name="stdout"/>. An image
    /// listed more than once is drawn for its first line that qualifies.
    /// </summary>
    public void Write(EvaluationResult result, TextWriter stdout)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in _dataset.Samples) paths.TryAdd(s.RelativePath, s.Path);
        var drawn = new HashSet<string>(StringComparer.Ordinal);
        int written = 0;
        foreach (var sample in result.Samples)
        {
            if (_wrongOnly && sample.PredLabel == sample.Label) continue;
            if (!drawn.Add(sample.RelativePath)) continue;
            var topK = sample.TopK.Select((label, i) => new ClassScore(label, sample.Scores[i], _classNames[label])).ToArray();
            var lines = PredictionPainter.Lines(topK, sample.Label, _classNames[sample.Label]);
            PredictionPictures.Write(_folder, sample.RelativePath, paths[sample.RelativePath], lines);
            written++;
        }
        _folder.Commit();
        string which = _wrongOnly ? "misclassified images" : "images";
        stdout.WriteLine($"pictures: {written} {which} drawn in {DisplayText.Escape(_folder.Root)}");
    }

    public void Dispose() => _folder.Dispose();
}
