using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Imaging;
using Xunit;

namespace Res2Net.Tests.Datasets;

/// <summary>Reading the two dataset layouts of mmpretrain's tools/test.py, and refusing malformed ones with a message that names the spot.</summary>
public class ImageDatasetTests : IDisposable
{
    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-dataset-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void AnnotationFileGivesEveryLineInOrderWithPathsUnderTheDataFolder()
    {
        var expected = DatasetFixtures.Images("val");
        string data = DatasetFixtures.DataDir("val");

        var dataset = ImageDataset.Open(data, DatasetFixtures.AnnFile("val"));

        Assert.Equal(DatasetLayout.AnnotationFile, dataset.Layout);
        Assert.Null(dataset.Classes);
        Assert.Equal(expected.Select(e => e.File), dataset.Samples.Select(s => s.RelativePath));
        Assert.Equal(expected.Select(e => e.Label), dataset.Samples.Select(s => s.Label));
        Assert.All(dataset.Samples, s => Assert.True(File.Exists(s.Path), s.Path));
        // A name with spaces: the line is split at its last space, as mmpretrain's rsplit(' ', 1) does.
        Assert.Contains(dataset.Samples, s => s.RelativePath.StartsWith("with space ", StringComparison.Ordinal));
        Assert.Contains(dataset.Samples, s => s.RelativePath.StartsWith("n01/", StringComparison.Ordinal));
        Assert.Equal(1, dataset.Samples[0].Line);
    }

    [Fact]
    public void ARelativeAnnotationPathIsAlsoLookedUpUnderTheDataFolder()
    {
        string root = DatasetFixtures.Path(".");
        var dataset = ImageDataset.Open(root, "meta/val.txt");
        Assert.Equal(DatasetFixtures.AnnFile("val"), dataset.AnnotationFile);
    }

    [Fact]
    public void ImageFolderSortsClassesByCodePointAsTorchvisionDoes()
    {
        var dataset = ImageDataset.Open(DatasetFixtures.DataDir("folder"));

        var classes = DatasetFixtures.Set("folder").GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        Assert.Equal(DatasetLayout.ImageFolder, dataset.Layout);
        // Python's sorted(): "Zebra" < "apple" and "b-c" < "bb"; a culture-aware sort would put them the other way round.
        Assert.Equal(new[] { "Zebra", "apple", "b-c", "bb" }, dataset.Classes!.Take(4));
        Assert.Equal(classes, dataset.Classes);
    }

    [Fact]
    public void ImageFolderListsImagesInTorchvisionsOrderIgnoringOtherFiles()
    {
        var dataset = ImageDataset.Open(DatasetFixtures.DataDir("folder"));

        // The fixture's order is torchvision's: class by class, sorted(os.walk(...)), files sorted; the two corrupt JPEGs
        // have image extensions, so they are samples too (and fail only when decoded).
        var corrupt = DatasetFixtures.Set("folder").GetProperty("corrupt").EnumerateObject().Select(p => p.Name).ToHashSet();
        var images = DatasetFixtures.Images("folder");
        Assert.Equal(images.Select(e => e.File), dataset.Samples.Select(s => s.RelativePath).Where(p => !corrupt.Contains(p)));
        Assert.Equal(images.Select(e => e.Label), dataset.Samples.Where(s => !corrupt.Contains(s.RelativePath)).Select(s => s.Label));
        Assert.Equal(corrupt.Order(), dataset.Samples.Select(s => s.RelativePath).Where(corrupt.Contains).Order());
        Assert.Equal(new[] { "cherry/README.txt" }, dataset.IgnoredFiles);
        Assert.Contains(dataset.Samples, s => s.RelativePath.Contains("/nested/", StringComparison.Ordinal));
        Assert.Contains(dataset.Samples, s => s.RelativePath.EndsWith(".JPG", StringComparison.Ordinal));
        Assert.Equal(0, dataset.Samples[0].Line);
    }

    [Theory]
    [InlineData("a.jpg 1\njustonetoken\n", 2, "expected 'relative/path label', found 'justonetoken'")]
    [InlineData("a.jpg 1\n\nb.jpg cat\n", 3, "the label 'cat' is not a non-negative integer")]
    [InlineData("a.jpg -1\n", 1, "the label '-1' is not a non-negative integer")]
    [InlineData("a.jpg 99999999999\n", 1, "the label '99999999999' is not a non-negative integer")]
    public void AMalformedAnnotationLineIsNamedByFileAndLine(string text, int line, string message)
    {
        string dir = TempDir();
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, text);

        var e = Assert.Throws<DatasetException>(() => ImageDataset.Open(dir, ann));

        Assert.Equal($"{ann}:{line}", e.Path);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void BlankLinesTabsAndWindowsLineEndsAreAccepted()
    {
        string dir = TempDir();
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, "\r\n  a b.jpg 3\r\n\r\nsub/c.png\t7\r\n");
        var dataset = ImageDataset.FromAnnotationFile(dir, ann);
        Assert.Equal(new[] { "a b.jpg", "sub/c.png" }, dataset.Samples.Select(s => s.RelativePath));
        Assert.Equal(new[] { 3, 7 }, dataset.Samples.Select(s => s.Label));
        Assert.Equal(new[] { 2, 4 }, dataset.Samples.Select(s => s.Line));
        Assert.Equal(Path.Combine(dir, "sub", "c.png"), dataset.Samples[1].Path);
    }

    [Fact]
    public void MissingOrEmptyInputsAreRefusedByName()
    {
        string dir = TempDir();
        string missing = Path.Combine(dir, "nope");
        Assert.Contains("dataset folder not found", Assert.Throws<DatasetException>(() => ImageDataset.Open(missing)).Message);
        Assert.Contains("annotation file not found",
            Assert.Throws<DatasetException>(() => ImageDataset.Open(dir, Path.Combine(dir, "val.txt"))).Message);
        File.WriteAllText(Path.Combine(dir, "empty.txt"), "\n\n");
        Assert.Contains("lists no images", Assert.Throws<DatasetException>(() => ImageDataset.Open(dir, Path.Combine(dir, "empty.txt"))).Message);
        var e = Assert.Throws<DatasetException>(() => ImageDataset.Open(dir));
        Assert.Equal(dir, e.Path);
        Assert.Contains("has no class folders", e.Message);
        Assert.Contains("annotation file", e.Message);
    }

    [Fact]
    public void LinkedFoldersAreFollowedButALinkCycleEndsTheWalk()
    {
        string root = TempDir();
        string cls = Directory.CreateDirectory(Path.Combine(root, "cls", "sub")).FullName;
        string elsewhere = Directory.CreateDirectory(Path.Combine(TempDir(), "more")).FullName;
        File.WriteAllBytes(Path.Combine(cls, "a.jpg"), [0]);
        File.WriteAllBytes(Path.Combine(elsewhere, "b.png"), [0]);
        Directory.CreateSymbolicLink(Path.Combine(cls, "loop"), Path.Combine(root, "cls"));   // cls/sub/loop -> cls
        Directory.CreateSymbolicLink(Path.Combine(root, "cls", "linked"), elsewhere);          // followed, as os.walk(followlinks=True)

        var dataset = ImageDataset.FromImageFolder(root);

        Assert.Equal(new[] { "cls" }, dataset.Classes);
        Assert.Equal(new[] { "cls/linked/b.png", "cls/sub/a.jpg" }, dataset.Samples.Select(s => s.RelativePath));
    }

    [Fact]
    public void EachRealFolderIsWalkedOnceEvenThroughRelativeLinksReachedViaOtherLinks()
    {
        // cls/alias -> sub and cls/sub/self -> . : os.walk(followlinks=True) would descend alias/self/self/... until
        // the path is too long, listing a.jpg hundreds of times. Each real folder is walked once, by the route that
        // comes first in sorted order (alias before sub).
        string root = TempDir();
        string sub = Directory.CreateDirectory(Path.Combine(root, "cls", "sub")).FullName;
        File.WriteAllBytes(Path.Combine(sub, "a.jpg"), [0]);
        File.CreateSymbolicLink(Path.Combine(sub, "self"), ".");
        File.CreateSymbolicLink(Path.Combine(root, "cls", "alias"), "sub");

        var dataset = ImageDataset.FromImageFolder(root);

        Assert.Equal(new[] { "cls/alias/a.jpg" }, dataset.Samples.Select(s => s.RelativePath));
    }

    [Fact]
    public void ALinkToASiblingClassIsFollowedOnceAndACycleBetweenClassesEnds()
    {
        // a/tob -> ../b and b/toa -> ../a: within one class every real folder is walked once, so each class gets its
        // own images and, through the link, the sibling's (as torchvision lists them), and the walk ends. Folders come in
        // sorted path order ("a" before "a/tob"), files sorted within each.
        string root = TempDir();
        string a = Directory.CreateDirectory(Path.Combine(root, "a")).FullName;
        string b = Directory.CreateDirectory(Path.Combine(root, "b")).FullName;
        File.WriteAllBytes(Path.Combine(a, "x.jpg"), [0]);
        File.WriteAllBytes(Path.Combine(b, "y.jpg"), [0]);
        File.CreateSymbolicLink(Path.Combine(a, "tob"), "../b");
        File.CreateSymbolicLink(Path.Combine(b, "toa"), "../a");

        var dataset = ImageDataset.FromImageFolder(root);

        Assert.Equal(new[] { "a/x.jpg", "a/tob/y.jpg", "b/y.jpg", "b/toa/x.jpg" }, dataset.Samples.Select(s => s.RelativePath));
        Assert.Equal(new[] { 0, 0, 1, 1 }, dataset.Samples.Select(s => s.Label));
    }

    [Fact]
    public void TiffFilesAreLeftOutAndCounted()
    {
        // torchvision lists .tif/.tiff, but OpenCV-exact TIFF decoding is not available here: rather than skipping
        // them one by one as unreadable, they are left out of the samples and reported.
        string root = TempDir();
        string cls = Directory.CreateDirectory(Path.Combine(root, "cls")).FullName;
        File.WriteAllBytes(Path.Combine(cls, "a.jpg"), [0]);
        File.WriteAllBytes(Path.Combine(cls, "b.tif"), [0]);
        File.WriteAllBytes(Path.Combine(cls, "c.TIFF"), [0]);
        File.WriteAllBytes(Path.Combine(cls, "d.pgm"), [0]);

        var dataset = ImageDataset.FromImageFolder(root);

        Assert.Equal(new[] { "cls/a.jpg", "cls/d.pgm" }, dataset.Samples.Select(s => s.RelativePath));
        Assert.Equal(new[] { "cls/b.tif", "cls/c.TIFF" }, dataset.UnsupportedFiles);
        Assert.Empty(dataset.IgnoredFiles);
        Assert.Contains("2 TIFF files left out", dataset.ToString());
        Assert.DoesNotContain(".tif", ImageFormats.Extensions);
    }

    [Fact]
    public void LabelsAreCheckedAgainstTheNetwork()
    {
        string dir = TempDir();
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, "a.jpg 9\nb.jpg 10\n");
        var dataset = ImageDataset.Open(dir, ann);

        dataset.CheckLabels(11, "net");
        var e = Assert.Throws<DatasetException>(() => dataset.CheckLabels(10, "tiny-plain"));
        Assert.Equal($"{ann}:2", e.Path);
        Assert.Contains("label 10 of b.jpg is out of range: tiny-plain has 10 classes (0-9)", e.Message);
    }

    [Fact]
    public void AnImageFolderMustHaveOneFolderPerClass()
    {
        var dataset = ImageDataset.Open(DatasetFixtures.DataDir("folder"));
        dataset.CheckLabels(10, "tiny-plain");
        var e = Assert.Throws<DatasetException>(() => dataset.CheckLabels(1000, "res2net50"));
        Assert.Contains("has 10 class folders but res2net50 has 1000 classes", e.Message);
    }
}
