using Res2Net.Runtime.Datasets;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Datasets;

/// <summary>Annotation lines and the file names in them reach messages escaped (see <see cref="ControlCharacterTests"/>).</summary>
public class DatasetControlCharacterTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-escape-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MalformedLineIsQuotedEscaped()
    {
        string ann = Path.Combine(_dir, "val.txt");
        File.WriteAllText(ann, "a.jpg 0\nevil\u001b[2J.jpg one\n");

        var error = Assert.Throws<DatasetException>(() => ImageDataset.FromAnnotationFile(_dir, ann));

        Assert.Contains("(line: 'evil\\x1b[2J.jpg one')", error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
    }

    [Fact]
    public void OutOfRangeLabelNamesTheFileEscaped()
    {
        string ann = Path.Combine(_dir, "val.txt");
        File.WriteAllText(ann, "evil\u001b]0;pwned\u0007.jpg 7\n");
        var dataset = ImageDataset.FromAnnotationFile(_dir, ann);

        var error = Assert.Throws<DatasetException>(() => dataset.CheckLabels(3, "net"));

        Assert.Contains("label 7 of evil\\x1b]0;pwned\\x07.jpg is out of range", error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
    }
}
