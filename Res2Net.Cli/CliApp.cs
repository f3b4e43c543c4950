using System.CommandLine;
using Res2Net.Cli.Commands;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Cli;

/// <summary>The <c>res2net</c> command line: the commands, and one place that turns failures into messages.</summary>
public static class CliApp
{
    /// <summary>Exit code for bad input (file, model name, checkpoint): the user can fix it.</summary>
    public const int UserError = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand(
            "Res2Net for .NET: networks compiled from networks/*.json into shape-specialized C#, run on mmpretrain checkpoints.")
        {
            PredictCommand.Create(stdout),
            InfoCommand.Create(stdout),
            ExportCommand.Create(stdout),
            ConvertCommand.Create(stdout),
            BenchCommand.Create(stdout),
            TestCommand.Create(stdout, stderr),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CliException or CheckpointException or StateDictMismatchException or UnknownModelException
                                      or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
                                      or Res2Net.Runtime.Imaging.ImageDecodeException or Res2Net.Runtime.Datasets.DatasetException
                                      or Res2Net.Runtime.IO.OutputFileException)
        {
            stderr.WriteLine($"res2net: error: {e.Message}");
            return UserError;
        }
    }
}

/// <summary>A problem with what the user asked for; its message says what to do.</summary>
public sealed class CliException(string message) : Exception(message);
