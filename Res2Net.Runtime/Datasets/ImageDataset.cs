using System.Globalization;
using Res2Net.Runtime.Imaging;

namespace Res2Net.Runtime.Datasets;

/// <summary>How an <see cref="ImageDataset"/> was laid out on disk.</summary>
public enum DatasetLayout
{
    /// <summary>mmpretrain's ImageNet layout: images under a folder, labels in an annotation file of <c>relative/path label</c> lines.</summary>
    AnnotationFile,

    /// <summary>torchvision's ImageFolder layout: one folder per class, labels by the folders' sorted order.</summary>
    ImageFolder,
}

/// <summary>One labelled image.</summary>
/// <param name="Path">Full path of the image.</param>
/// <param name="RelativePath">Path under the dataset folder, with '/' separators, as the annotation file or the folder names it.</param>
/// <param name="Label">Ground-truth label (class index).</param>
/// <param name="Line">The annotation file line it comes from (1-based); 0 in the ImageFolder layout.</param>
public sealed record DatasetSample(string Path, string RelativePath, int Label, int Line = 0)
{
    /// <summary>
    /// The sample's position in the whole listing (0-based), kept in a <see cref="ImageDataset.Shard"/>: how the results
    /// of shards are put back in the order of an unsharded run (a path may be listed twice, so it cannot serve).
    /// </summary>
    public int Index { get; init; }
}

/// <summary>Which part of a listing an <see cref="ImageDataset"/> holds: every <paramref name="Count"/>-th sample from <paramref name="Index"/> on.</summary>
/// <param name="Index">The shard, 0 to <paramref name="Count"/> - 1.</param>
/// <param name="Count">How many shards the listing is split into.</param>
/// <param name="ListingCount">Samples in the whole listing.</param>
public sealed record DatasetShard(int Index, int Count, int ListingCount)
{
    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>
/// A labelled image set, in either of the layouts mmpretrain's <c>tools/test.py</c> reads (see <see cref="DatasetLayout"/>).
/// Only the listing is read here; images are decoded while evaluating, and one that cannot be is skipped there.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>
    /// Extensions the ImageFolder layout takes, compared ignoring case: the decoder's list, <see cref="ImageFormats.Extensions"/>
    /// (torchvision's <c>IMG_EXTENSIONS</c> less TIFF, which is counted in <see cref="UnsupportedFiles"/> instead).
    /// </summary>
    public static IReadOnlyList<string> ImageExtensions => ImageFormats.Extensions;

    private string? _listingSha256;

    private ImageDataset(string root, DatasetLayout layout, string? annotationFile, IReadOnlyList<DatasetSample> samples,
        IReadOnlyList<string>? classes, IReadOnlyList<string> ignored, IReadOnlyList<string> unsupported,
        DatasetShard? sharding = null, string? listingSha256 = null)
    {
        Sharding = sharding;
        _listingSha256 = listingSha256;
        UnsupportedFiles = unsupported;
        Root = root;
        Layout = layout;
        AnnotationFile = annotationFile;
        Samples = samples;
        Classes = classes;
        IgnoredFiles = ignored;
    }

    /// <summary>The folder image paths are relative to.</summary>
    public string Root { get; }

    public DatasetLayout Layout { get; }

    /// <summary>The annotation file (full path), for <see cref="DatasetLayout.AnnotationFile"/>.</summary>
    public string? AnnotationFile { get; }

    /// <summary>The images with their labels, in the order of the annotation file, or in torchvision's ImageFolder order.</summary>
    public IReadOnlyList<DatasetSample> Samples { get; }

    /// <summary>For <see cref="DatasetLayout.ImageFolder"/>: the class folder names in label order; else null.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>Files in class folders without an image extension, skipped as torchvision skips them (relative paths).</summary>
    public IReadOnlyList<string> IgnoredFiles { get; }

    /// <summary>
    /// Files in class folders that torchvision would take but that cannot be decoded here (TIFF,
    /// <see cref="ImageFormats.UnsupportedExtensions"/>): left out of <see cref="Samples"/> (relative paths).
    /// </summary>
    public IReadOnlyList<string> UnsupportedFiles { get; }

    /// <summary>Set when this is one shard of a listing (<see cref="Shard"/>); null for the whole listing.</summary>
    public DatasetShard? Sharding { get; }

    /// <summary>
    /// The sha256 (lowercase hex) of the whole listing: every sample's relative path and label, in order, as
    /// <c>path TAB label LF</c> in UTF-8. Two runs with equal hashes evaluate the same images under the same labels,
    /// wherever the folder is mounted; a shard carries the hash of the listing it was cut from.
    /// </summary>
    public string ListingSha256 => _listingSha256 ??= HashListing(Samples);

    /// <summary>
    /// Shard <paramref name="index"/> of <paramref name="count"/>: samples <paramref name="index"/>,
    /// <paramref name="index"/> + <paramref name="count"/>, … of this listing (every count-th, so each shard spans every
    /// class of a folder-ordered set), each keeping its <see cref="DatasetSample.Index"/>. The shards together hold every
    /// sample exactly once; evaluating each and adding up the counts gives the unsharded accuracy exactly.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1, or <paramref name="index"/> is not in [0, count).</exception>
    /// <exception cref="InvalidOperationException">This dataset is a shard already.</exception>
    public ImageDataset Shard(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (index < 0 || index >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"a shard of {count} is 0 to {count - 1}");
        if (Sharding != null) throw new InvalidOperationException($"this dataset is shard {Sharding} already");
        var part = new List<DatasetSample>((Samples.Count + count - 1) / count);
        for (int i = index; i < Samples.Count; i += count) part.Add(Samples[i]);
        return new ImageDataset(Root, Layout, AnnotationFile, part, Classes, IgnoredFiles, UnsupportedFiles,
            new DatasetShard(index, count, Samples.Count), ListingSha256);
    }

    private static string HashListing(IReadOnlyList<DatasetSample> samples)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var sample in samples)
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{sample.RelativePath}\t{sample.Label.ToString(CultureInfo.InvariantCulture)}\n"));
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>One more than the largest label.</summary>
    public int LabelCount => Classes?.Count ?? (Samples.Count == 0 ? 0 : Samples.Max(s => s.Label) + 1);

    /// <summary>
    /// <see cref="FromAnnotationFile"/> when <paramref name="annotationFile"/> is given, else <see cref="FromImageFolder"/>.
    /// A relative annotation path that does not exist from the working directory is looked up under <paramref name="root"/>
    /// too (mmpretrain joins it with <c>data_root</c>).
    /// </summary>
    public static ImageDataset Open(string root, string? annotationFile = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (annotationFile == null) return FromImageFolder(root);
        if (!System.IO.Path.IsPathRooted(annotationFile) && !File.Exists(annotationFile))
        {
            string underRoot = System.IO.Path.Combine(root, annotationFile);
            if (File.Exists(underRoot)) annotationFile = underRoot;
        }
        return FromAnnotationFile(root, annotationFile);
    }

    /// <summary>
    /// mmpretrain's ImageNet layout (<c>CustomDataset</c> with an <c>ann_file</c>): each non-blank line of
    /// <paramref name="annotationFile"/> is <c>relative/path label</c>, split at its last space or tab (so file names may
    /// hold spaces), the path relative to <paramref name="root"/> (mmpretrain's <c>data_prefix</c>). Lines are read with
    /// the bounds of <see cref="AnnotationLineReader"/>.
    /// </summary>
    /// <exception cref="DatasetException">The folder or the file is missing, or a line is malformed or too long (named with its line number).</exception>
    public static ImageDataset FromAnnotationFile(string root, string annotationFile)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(annotationFile);
        string fullRoot = CheckRoot(root);
        string fullAnn = System.IO.Path.GetFullPath(annotationFile);
        if (Directory.Exists(fullAnn)) throw new DatasetException(fullAnn, "is a folder; the annotation file is a text file of 'relative/path label' lines");
        if (!File.Exists(fullAnn)) throw new DatasetException(fullAnn, "annotation file not found");
        var samples = new List<DatasetSample>();
        using var reader = new AnnotationLineReader(fullAnn);
        while (reader.ReadLine() is { } text)
        {
            string line = text.Trim();
            if (line.Length == 0) continue;
            string where = $"{fullAnn}:{reader.LineNumber}";
            int split = line.LastIndexOfAny([' ', '\t']);
            if (split <= 0)
                throw new DatasetException(where, $"expected 'relative/path label', found '{Clip(line)}'");
            string file = line[..split].TrimEnd();
            string labelText = line[(split + 1)..];
            if (!int.TryParse(labelText, NumberStyles.None, CultureInfo.InvariantCulture, out int label))
                throw new DatasetException(where, $"the label '{Clip(labelText)}' is not a non-negative integer (line: '{Clip(line)}')");
            string relative = file.Replace('\\', '/');
            samples.Add(new DatasetSample(System.IO.Path.GetFullPath(System.IO.Path.Combine(fullRoot, file)), relative, label, reader.LineNumber) { Index = samples.Count });
        }
        if (samples.Count == 0) throw new DatasetException(fullAnn, "the annotation file lists no images");
        return new ImageDataset(fullRoot, DatasetLayout.AnnotationFile, fullAnn, samples, null, [], []);
    }

    /// <summary>
    /// torchvision's <c>ImageFolder</c> (and mmpretrain's <c>CustomDataset</c> without an annotation file): each folder
    /// directly under <paramref name="root"/> is a class, labelled by its position in the folder names sorted by code
    /// point (as Python's <c>sorted</c> sorts, so "Zebra" comes before "apple"); every file with an image extension
    /// (<see cref="ImageExtensions"/>) anywhere below a class folder is a sample of it. Samples come class by class,
    /// folders in sorted path order, files sorted within each folder. Links to folders are followed, as torchvision's
    /// <c>os.walk(followlinks=True)</c> does, but each real folder (all links in its path resolved) is walked once per
    /// class, by the first route in sorted order, so a link cycle ends instead of repeating its images. TIFF files are
    /// left out and listed in <see cref="UnsupportedFiles"/>.
    /// </summary>
    /// <exception cref="DatasetException">The folder is missing or has no class folders.</exception>
    public static ImageDataset FromImageFolder(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string fullRoot = CheckRoot(root);
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        string[] classes;
        try
        {
            classes = Directory.EnumerateDirectories(fullRoot, "*", options).Select(d => System.IO.Path.GetFileName(d)!).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(fullRoot, $"cannot list the folder ({e.Message})", e);
        }
        Array.Sort(classes, CodePointComparer.Instance);
        if (classes.Length == 0)
        {
            throw new DatasetException(fullRoot,
                "has no class folders. The ImageFolder layout is DIR/<class>/<image>; for a flat folder of images with an annotation file of 'relative/path label' lines, pass the annotation file");
        }

        var samples = new List<DatasetSample>();
        var ignored = new List<string>();
        var unsupported = new List<string>();
        for (int label = 0; label < classes.Length; label++)
        {
            string classDir = System.IO.Path.Combine(fullRoot, classes[label]);
            foreach (string dir in Walk(classDir).OrderBy(d => Relative(fullRoot, d), CodePointComparer.Instance))
            {
                string[] files;
                try
                {
                    files = Directory.GetFiles(dir, "*", options);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new DatasetException(dir, $"cannot list the folder ({e.Message})", e);
                }
                foreach (string file in files.OrderBy(f => System.IO.Path.GetFileName(f), CodePointComparer.Instance))
                {
                    string relative = Relative(fullRoot, file);
                    if (HasImageExtension(file)) samples.Add(new DatasetSample(file, relative, label) { Index = samples.Count });
                    else if (ImageFormats.IsUnsupported(file)) unsupported.Add(relative);
                    else ignored.Add(relative);
                }
            }
        }
        return new ImageDataset(fullRoot, DatasetLayout.ImageFolder, null, samples, classes, ignored, unsupported);
    }

    /// <summary>True for a file name ending in one of <see cref="ImageExtensions"/>, ignoring case.</summary>
    public static bool HasImageExtension(string path) => ImageFormats.IsDecodable(path);

    /// <summary>
    /// Checks that every label is below <paramref name="numClasses"/>, and for the ImageFolder layout that there is one
    /// class folder per class (torchvision numbers the folders, so any other count would mislabel them).
    /// </summary>
    /// <exception cref="DatasetException">Names the first offending line, or the folder count.</exception>
    public void CheckLabels(int numClasses, string networkName)
    {
        if (Layout == DatasetLayout.ImageFolder && Classes!.Count != numClasses)
        {
            throw new DatasetException(Root,
                $"has {Classes.Count} class folders but {networkName} has {numClasses} classes. ImageFolder labels are the positions of the " +
                "folder names in sorted order, so the folders must be exactly the network's classes (for a subset, use an annotation file)");
        }
        if (Samples.FirstOrDefault(s => s.Label >= numClasses) is { } bad)
        {
            throw new DatasetException(AnnotationFile != null ? $"{AnnotationFile}:{bad.Line}" : bad.Path,
                $"label {bad.Label} of {bad.RelativePath} is out of range: {networkName} has {numClasses} classes (0-{numClasses - 1})");
        }
    }

    public override string ToString() => Layout == DatasetLayout.ImageFolder
        ? $"{Root} (ImageFolder: {Classes!.Count} classes, {ImageCount} images{UnsupportedNote})"
        : $"{Root} (annotation file {AnnotationFile}: {ImageCount} images)";

    private string ImageCount => Sharding == null ? $"{Samples.Count}" : $"shard {Sharding}, {Samples.Count} of {Sharding.ListingCount}";

    private string UnsupportedNote => UnsupportedFiles.Count == 0 ? ""
        : $"; {UnsupportedFiles.Count} TIFF file{(UnsupportedFiles.Count == 1 ? "" : "s")} left out, as TIFF cannot be decoded here";

    private static string CheckRoot(string root)
    {
        string full = System.IO.Path.GetFullPath(root);
        if (File.Exists(full)) throw new DatasetException(full, "is a file; --data is the folder that holds the images");
        if (!Directory.Exists(full)) throw new DatasetException(full, "dataset folder not found");
        return full;
    }

    /// <summary>
    /// The folder and every folder below it, following links to folders as torchvision's <c>os.walk(followlinks=True)</c>
    /// does, but each real folder once: a folder whose real path (<see cref="RealPath"/>) was already walked is skipped
    /// with everything below it, so a cycle of links ends. Sub-folders are walked in sorted order, so which of two routes
    /// to one folder is kept does not depend on the order the file system lists them in.
    /// </summary>
    private static List<string> Walk(string top)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            try
            {
                if (!seen.Add(RealPath.Of(dir))) continue;
                result.Add(dir);
                var subs = Directory.EnumerateDirectories(dir, "*", new EnumerationOptions { AttributesToSkip = 0 }).ToList();
                subs.Sort(CodePointComparer.Instance);
                for (int i = subs.Count - 1; i >= 0; i--) stack.Push(subs[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DatasetException(dir, $"cannot list the folder ({e.Message})", e);
            }
        }
        return result;
    }

    private static string Relative(string root, string path) => System.IO.Path.GetRelativePath(root, path).Replace('\\', '/');

    private static string Clip(string s) => s.Length <= 80 ? s : s[..77] + "...";

    /// <summary>Python's string order: by Unicode code point (UTF-16 ordinal order differs only past U+FFFF).</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x == null) return -1;
            if (y == null) return 1;
            var ex = x.EnumerateRunes();
            var ey = y.EnumerateRunes();
            while (true)
            {
                bool hx = ex.MoveNext(), hy = ey.MoveNext();
                if (!hx || !hy) return hx == hy ? 0 : hx ? 1 : -1;
                int c = ex.Current.Value.CompareTo(ey.Current.Value);
                if (c != 0) return c;
            }
        }
    }
}
