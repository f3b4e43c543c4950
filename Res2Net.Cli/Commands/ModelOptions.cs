using System.CommandLine;
using Res2Net.Models;

namespace Res2Net.Cli.Commands;

/// <summary>
/// The options that name what to run, shared by the commands: <c>--model</c>, a network by mmpretrain name (or
/// class name), and <c>--checkpoint</c>, its weights.
/// </summary>
internal static class ModelOptions
{
    public static Option<string> Model() => new("--model", "-m")
    {
        HelpName = "NAME",
        Description = "Network to run, by mmpretrain name: " + string.Join(", ", Res2NetModels.All.Select(m => m.Name)) + ".",
        Required = true,
    };

    public static Option<FileInfo?> Checkpoint() => new("--checkpoint", "-c")
    {
        Description = "Checkpoint file: mmpretrain's .pth, the original Res2Net release's .pth, a bare state dict, or safetensors " +
                      "(format and key layout are detected). Default: the model's official checkpoint, downloaded once into the cache.",
    };
}
