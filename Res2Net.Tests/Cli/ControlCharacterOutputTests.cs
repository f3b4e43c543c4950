using Res2Net.Tests.Checkpoints;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>What <c>res2net test</c> prints about a dataset's files shows their control characters escaped.</summary>
public class ControlCharacterOutputTests
{
    [Fact]
    public void SkippedImageWarningShowsTheNameEscaped()
    {
        string dir = Directory.CreateTempSubdirectory("res2net-escape-").FullName;
        try
        {
            string ann = Path.Combine(dir, "val.txt");
            string firstGood = File.ReadLines(DatasetFixtures.AnnFile("seeded")).First();
            File.WriteAllText(ann, firstGood + "\nmissing\u001b[31m\u202e.jpg 0\n");

            var (code, output, err) = CliTests.Run("test", "--model", SeededCheckpoint.Model, "--checkpoint", SeededCheckpoint.Path,
                "--data", SeededCheckpoint.DemoDir, "--ann-file", ann);

            Assert.True(code == 0, err);
            Assert.Contains("warning: skipped", err);
            Assert.Contains("missing\\x1b[31m\\u202e.jpg", err);
            ControlCharacterTests.ShowsNoRawControls(err);
            ControlCharacterTests.ShowsNoRawControls(output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
